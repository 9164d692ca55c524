package io.hodei.app;

import io.hodei.app.config.ConfigException;
import io.hodei.app.config.ConfigLoader;
import io.hodei.app.config.ConfigSchema;
import io.hodei.app.config.HodeiConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
  @TempDir
  Path dir;

  private Path yaml(String text) throws Exception {
    Path file = dir.resolve("hodei.yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void theShippedConfigLoadsAndMatchesTheSeedDefaults() {
    HodeiConfig config = ConfigLoader.load(Path.of("conf/hodei.yaml"), Map.of(), Map.of());
    assertThat(config.getInt(ConfigSchema.SERVER_PORT)).isEqualTo(8080);
    assertThat(config.getInt(ConfigSchema.SERVER_GRPC_PORT)).isEqualTo(9090);
    assertThat(config.getInt(ConfigSchema.PROMETHEUS_PORT)).isEqualTo(9091);
    assertThat(config.getString(ConfigSchema.PROMETHEUS_PATH)).isEqualTo("/metrics");
    assertThat(config.getInt(ConfigSchema.QUOTA_CPU)).isEqualTo(4000);
    assertThat(config.getInt(ConfigSchema.QUOTA_MEMORY)).isEqualTo(8192);
    assertThat(config.getInt(ConfigSchema.QUOTA_CONCURRENT)).isEqualTo(10);
    assertThat(config.getInt(ConfigSchema.BURST_MAX_OVERAGE)).isEqualTo(150);
    assertThat(config.getList(ConfigSchema.POOLS_LIST)).hasSize(1);
    assertThat(config.getList(ConfigSchema.POOLS_LIST).get(0)).containsEntry("id", "pool-default")
        .containsEntry("provider", "local");
  }

  @Test
  void environmentOverridesFileIncludingSeedNames() throws Exception {
    Path file = yaml("server:\n  port: 8081\n");
    HodeiConfig config = ConfigLoader.load(file, Map.of(
        "HODEI_SERVER_PORT", "9000",
        "HODEI_DEFAULT_TENANT_QUOTA_CPU", "2500",
        "HODEI_BURST_MAX_OVERAGE", "200",
        "METRICS_COLLECTION_INTERVAL", "30",
        "HODEI_PG_EPHEMERAL", "true",
        "PATH", "/usr/bin"), Map.of());
    assertThat(config.getInt(ConfigSchema.SERVER_PORT)).isEqualTo(9000);
    assertThat(config.getInt(ConfigSchema.QUOTA_CPU)).isEqualTo(2500);
    assertThat(config.getInt(ConfigSchema.BURST_MAX_OVERAGE)).isEqualTo(200);
    assertThat(config.getInt(ConfigSchema.METRICS_INTERVAL)).isEqualTo(30);
    assertThat(config.getBool(ConfigSchema.DB_EPHEMERAL)).isTrue();
  }

  @Test
  void unknownKeysAndBadValuesNameTheKey() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(yaml("server:\n  prot: 8080\n"), Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("server.prot");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("server:\n  port: eighty\n"), Map.of(), Map.of()))
        .hasMessageContaining("server.port");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("server:\n  port: 70000\n"), Map.of(), Map.of()))
        .hasMessageContaining("server.port").hasMessageContaining("outside");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("HODEI_SERVER_PROT", "1"), Map.of()))
        .hasMessageContaining("HODEI_SERVER_PROT");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("HODEI_PG_EPHEMERAL", "maybe"), Map.of()))
        .hasMessageContaining("HODEI_PG_EPHEMERAL");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("resource_pools:\n  default_pool_type: elastic\n"), Map.of(),
        Map.of())).hasMessageContaining("resource_pools.default_pool_type");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("resource_pools:\n  pools:\n    - id: p\n      sise: 3\n"),
        Map.of(), Map.of())).hasMessageContaining("resource_pools.pools[0].sise");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("server: [1, 2\n"), Map.of(), Map.of()))
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void credentialsAreEnvironmentOnly() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(yaml("security:\n  admin_token: abcdefghijklmnopqrstu\n"),
        Map.of(), Map.of())).hasMessageContaining("security.admin_token").hasMessageContaining("HODEI_ADMIN_TOKEN");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("HODEI_ADMIN_TOKEN", "short"), Map.of()))
        .hasMessageContaining("at least 16");
    HodeiConfig ok = ConfigLoader.load(null, Map.of("HODEI_ADMIN_TOKEN", "a-long-enough-admin-token"), Map.of());
    assertThat(ok.getString(ConfigSchema.ADMIN_TOKEN)).isEqualTo("a-long-enough-admin-token");
  }
}
