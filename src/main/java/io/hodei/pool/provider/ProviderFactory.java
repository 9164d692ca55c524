package io.hodei.pool.provider;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The providers this build ships, by name. */
public final class ProviderFactory {
  private ProviderFactory() {}

  public static Map<String, WorkerProvider> create(Vertx vertx, Path localWorkDir, long simulatedSeed) {
    Map<String, WorkerProvider> providers = new LinkedHashMap<>();
    providers.put("local", new LocalProcessProvider(vertx, LocalProviderSettings.defaults().withWorkDir(localWorkDir)));
    providers.put("simulated", new SimulatedProvider(vertx, simulatedSeed));
    return providers;
  }
}
