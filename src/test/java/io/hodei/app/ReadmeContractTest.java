package io.hodei.app;

import io.hodei.app.config.ConfigSchema;
import io.hodei.common.MetricCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** README is part of the contract: every config key and every catalog metric is documented there. */
class ReadmeContractTest {
  @Test
  void everyConfigKeyAndMetricIsDocumented() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    ConfigSchema.keys().values().forEach(key -> {
      assertThat(readme).as("README documents %s", key.path()).contains("`" + key.path() + "`");
      key.envNames().forEach(env -> assertThat(readme).as("README documents %s", env).contains("`" + env + "`"));
    });
    MetricCatalog.ALL.forEach(m -> assertThat(readme).as("README documents %s", m.name()).contains("`" + m.name() + "`"));
    assertThat(readme).contains("mvn -B verify").contains("mvn -q -DskipTests package && java -jar target/hodei-pools.jar");
  }
}
