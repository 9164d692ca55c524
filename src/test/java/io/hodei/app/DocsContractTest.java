package io.hodei.app;

import io.hodei.app.config.ConfigKey;
import io.hodei.app.config.ConfigSchema;
import io.hodei.common.MetricCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The user docs are part of the contract: every config key (with its environment names and default) is in
 * docs/configuration.md, every catalog metric (with its type and labels) in docs/metrics.md, every relative link of
 * the docs points at a file (and heading) that exists, and README keeps the two commands CI and users run.
 */
class DocsContractTest {
  private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
  private static final Pattern FENCE = Pattern.compile("(?s)```.*?```");

  @Test
  void everyConfigKeyIsDocumentedWithItsEnvironmentNamesAndDefault() throws IOException {
    String doc = Files.readString(Path.of("docs/configuration.md"));
    for (ConfigKey key : ConfigSchema.keys().values()) {
      Optional<String> row = row(doc, key.path());
      assertThat(row).as("docs/configuration.md has a row for %s", key.path()).isPresent();
      String[] cells = row.get().split("(?<!\\\\)\\|");
      key.envNames().forEach(env ->
          assertThat(cells[2]).as("docs/configuration.md documents %s for %s", env, key.path()).contains("`" + env + "`"));
      if (key.defaultValue() != null && key.type() != ConfigKey.Type.LIST) {
        assertThat(cells[3].trim()).as("default of %s in docs/configuration.md", key.path())
            .isEqualTo(String.valueOf(key.defaultValue()));
      }
    }
  }

  @Test
  void everyCatalogMetricIsDocumentedWithItsTypeAndLabels() throws IOException {
    String doc = Files.readString(Path.of("docs/metrics.md"));
    for (MetricCatalog.Def m : MetricCatalog.ALL) {
      Optional<String> row = row(doc, m.name());
      assertThat(row).as("docs/metrics.md has a row for %s", m.name()).isPresent();
      String[] cells = row.get().split("(?<!\\\\)\\|");
      assertThat(cells[2].trim()).as("type of %s in docs/metrics.md", m.name())
          .isEqualTo(m.type().name().toLowerCase(Locale.ROOT));
      assertThat(cells[3].trim()).as("labels of %s in docs/metrics.md", m.name()).isEqualTo(String.join(", ", m.labels()));
    }
  }

  @Test
  void everyRelativeLinkPointsAtAFileAndHeadingThatExist() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CONTRIBUTING.md"), Path.of("bench/RESULTS.md")));
    try (Stream<Path> files = Files.list(Path.of("docs"))) {
      files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    List<String> broken = new ArrayList<>();
    for (Path doc : docs) {
      String text = FENCE.matcher(Files.readString(doc)).replaceAll("");
      Matcher m = LINK.matcher(text);
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) continue; // http:, https:, mailto:
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? doc : doc.toAbsolutePath().getParent().resolve(file).normalize();
        if (!Files.exists(resolved)) {
          broken.add(doc + ": " + target + " (no such file)");
        } else if (anchor != null && resolved.toString().endsWith(".md") && !anchors(resolved).contains(anchor)) {
          broken.add(doc + ": " + target + " (no such heading)");
        }
      }
    }
    assertThat(broken).as("broken relative links").isEmpty();
  }

  @Test
  void readmeKeepsTheTwoCommandsAndStaysShort() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    assertThat(readme).contains("mvn -B verify").contains("mvn -q -DskipTests package && java -jar target/hodei-pools.jar");
    assertThat(readme.lines().count()).as("README lines (reference material belongs in docs/)").isLessThanOrEqualTo(250);
  }

  /** The table row whose first cell is {@code `name`}. */
  private static Optional<String> row(String doc, String name) {
    return doc.lines().filter(l -> l.startsWith("| `" + name + "` |")).findFirst();
  }

  /** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens. */
  private static Set<String> anchors(Path md) throws IOException {
    Set<String> out = new HashSet<>();
    String text = FENCE.matcher(Files.readString(md)).replaceAll("");
    for (String line : text.lines().toList()) {
      if (!line.startsWith("#")) continue;
      String title = line.replaceFirst("^#+\\s*", "").trim().toLowerCase(Locale.ROOT);
      out.add(title.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
    }
    return out;
  }
}
