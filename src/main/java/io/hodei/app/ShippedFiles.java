package io.hodei.app;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Installs the files the server ships (the Grafana dashboards, the Prometheus alert rules; packaged under
 * {@code hodei/dashboards} and {@code hodei/alerts}) into the directories {@code observability.grafana.dashboards_dir}
 * and {@code observability.alerting.prometheus_alerts_dir} name, so a Grafana or Prometheus provisioned from those
 * directories picks up this version's files. A file is rewritten only when its content differs. A directory that
 * cannot be created or written is skipped with a warning: start-up does not depend on it. Blocking: call it off the
 * event loop.
 */
public final class ShippedFiles {
  private static final Logger LOG = LoggerFactory.getLogger(ShippedFiles.class);
  public static final String DASHBOARDS = "hodei/dashboards";
  public static final String ALERTS = "hodei/alerts";

  private ShippedFiles() {}

  /** Copies every file of the classpath folder {@code folder} into {@code target}; returns the files written. */
  public static List<Path> install(String folder, Path target) {
    List<Path> written = new ArrayList<>();
    try {
      Files.createDirectories(target);
      for (Map.Entry<String, byte[]> file : read(folder).entrySet()) {
        Path to = target.resolve(file.getKey());
        if (Files.exists(to) && Arrays.equals(Files.readAllBytes(to), file.getValue())) continue;
        Files.write(to, file.getValue());
        written.add(to);
      }
      LOG.info("shipped files installed", kv("folder", folder), kv("directory", target.toString()),
          kv("written", written.size()));
    } catch (IOException | RuntimeException e) {
      LOG.warn("shipped files not installed (the directory is not writable); install them by hand from the release",
          kv("folder", folder), kv("directory", target.toString()), kv("reason", e.toString()));
    }
    return written;
  }

  /** The files of a classpath folder by name, from the jar or from a directory (tests, IDE). */
  static Map<String, byte[]> read(String folder) throws IOException {
    URL url = ShippedFiles.class.getClassLoader().getResource(folder);
    if (url == null) throw new IOException("no " + folder + " on the classpath");
    URI uri;
    try {
      uri = url.toURI();
    } catch (URISyntaxException e) {
      throw new IOException(e);
    }
    if ("jar".equals(uri.getScheme())) {
      FileSystem fs;
      boolean opened = false;
      try {
        fs = FileSystems.newFileSystem(uri, Map.of());
        opened = true;
      } catch (FileSystemAlreadyExistsException e) {
        fs = FileSystems.getFileSystem(uri);
      }
      try {
        return list(fs.getPath(folder));
      } finally {
        if (opened) fs.close();
      }
    }
    return list(Path.of(uri));
  }

  private static Map<String, byte[]> list(Path dir) throws IOException {
    Map<String, byte[]> files = new java.util.TreeMap<>();
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : entries.filter(Files::isRegularFile).toList()) {
        try (InputStream in = Files.newInputStream(p)) {
          files.put(p.getFileName().toString(), in.readAllBytes());
        }
      }
    }
    return files;
  }
}
