package io.hodei.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/** The agent's id, kept in its work directory so that a restarted agent is the same agent to the server. */
final class AgentIdentity {
  static final String FILE = "agent-id";

  private AgentIdentity() {}

  /** Reads the id from {@code workDir}, or creates and stores a new one (blocking file I/O: call before Vert.x). */
  static String load(Path workDir, String hostname) throws IOException {
    Files.createDirectories(workDir);
    Path file = workDir.resolve(FILE);
    if (Files.exists(file)) {
      String id = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!id.isEmpty()) return id;
    }
    byte[] random = new byte[6];
    new SecureRandom().nextBytes(random);
    String host = hostname.replaceAll("[^A-Za-z0-9._-]", "-");
    if (host.length() > 40) host = host.substring(0, 40);
    String id = "agent-" + (host.isEmpty() ? "" : host + "-") + HexFormat.of().formatHex(random);
    Path tmp = workDir.resolve(FILE + ".tmp");
    Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return id;
  }
}
