package io.hodei.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The CLI's contexts, kubectl style: {@code ~/.config/hodei/config.yaml} (mode 0600) holds named server + token
 * pairs and the current one.
 */
public final class CliConfig {
  public static final String DEFAULT_CONTEXT = "default";
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  public record Context(String name, String server, String token) {}

  private final Path file;
  private String current;
  private final Map<String, Context> contexts = new LinkedHashMap<>();

  private CliConfig(Path file) { this.file = file; }

  /** The config file: {@code HODEI_CONFIG}, else {@code $HOME/.config/hodei/config.yaml}. */
  public static Path location(Map<String, String> env) {
    String explicit = env.get("HODEI_CONFIG");
    if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    return Path.of(home, ".config", "hodei", "config.yaml");
  }

  @SuppressWarnings("unchecked")
  public static CliConfig load(Path file) {
    CliConfig config = new CliConfig(file);
    if (!Files.exists(file)) return config;
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      throw CliException.error("cannot read " + file + ": " + e.getMessage());
    }
    if (root == null) return config;
    if (!(root instanceof Map<?, ?> map)) throw CliException.error(file + " is not a YAML mapping");
    Object current = map.get("current-context");
    config.current = current == null ? null : current.toString();
    Object contexts = map.get("contexts");
    if (contexts instanceof Map<?, ?> all) {
      for (Map.Entry<?, ?> e : all.entrySet()) {
        if (!(e.getValue() instanceof Map<?, ?> c)) continue;
        String name = e.getKey().toString();
        Object server = c.get("server");
        Object token = c.get("token");
        config.contexts.put(name, new Context(name, server == null ? null : server.toString(),
            token == null ? null : token.toString()));
      }
    }
    return config;
  }

  public Path file() { return file; }

  public String currentName() { return current; }

  public Map<String, Context> contexts() { return contexts; }

  public Context context(String name) { return contexts.get(name); }

  public void put(Context context) { contexts.put(context.name(), context); }

  public void use(String name) {
    if (!contexts.containsKey(name)) {
      throw new CliException(ExitCodes.NOT_FOUND, "no context '" + name + "' in " + file + " (known: "
          + String.join(", ", contexts.keySet()) + ")");
    }
    current = name;
  }

  /** Writes the file readable by its owner only (it holds tokens), creating it 0600 before any secret is written. */
  public void save() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("current-context", current);
    Map<String, Object> all = new LinkedHashMap<>();
    for (Context c : contexts.values()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("server", c.server());
      m.put("token", c.token());
      all.put(c.name(), m);
    }
    root.put("contexts", all);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) Files.createDirectories(dir);
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } catch (FileAlreadyExistsException ignored) {
        // rewritten below, after tightening its mode
      } catch (UnsupportedOperationException notPosix) {
        Files.createFile(file);
      }
      try {
        Files.setPosixFilePermissions(file, OWNER_ONLY);
      } catch (UnsupportedOperationException notPosix) {
        // a non-POSIX file system: the user's own directory rights apply
      }
      try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        new Yaml(options).dump(root, w);
      }
    } catch (IOException e) {
      throw CliException.error("cannot write " + file + ": " + e.getMessage());
    }
  }
}
