package io.hodei.pool.provider;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/** The one registry of providers: every {@link WorkerProviderFactory} on the class path, by name. */
public final class ProviderFactory {
  private ProviderFactory() {}

  /** One provider per factory found; two factories with one name are a packaging mistake and fail the start. */
  public static Map<String, WorkerProvider> create(ProviderContext context) {
    Map<String, WorkerProvider> providers = new LinkedHashMap<>();
    for (WorkerProviderFactory factory : ServiceLoader.load(WorkerProviderFactory.class,
        ProviderFactory.class.getClassLoader())) {
      if (providers.containsKey(factory.name())) {
        throw new IllegalStateException("two worker provider factories are named '" + factory.name() + "'");
      }
      providers.put(factory.name(), factory.create(context));
    }
    return providers;
  }

  /** The local process provider. */
  public static final class Local implements WorkerProviderFactory {
    @Override public String name() { return LocalProcessProvider.NAME; }

    @Override
    public WorkerProvider create(ProviderContext context) {
      return new LocalProcessProvider(context.vertx(),
          LocalProviderSettings.defaults().withWorkDir(context.localWorkDir()));
    }
  }

  /** The in-memory simulated provider. */
  public static final class Simulated implements WorkerProviderFactory {
    @Override public String name() { return SimulatedProvider.NAME; }

    @Override
    public WorkerProvider create(ProviderContext context) {
      return new SimulatedProvider(context.vertx(), context.simulatedSeed());
    }
  }
}
