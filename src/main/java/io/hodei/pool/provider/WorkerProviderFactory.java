package io.hodei.pool.provider;

/**
 * Makes one kind of {@link WorkerProvider}. Factories are found with {@link java.util.ServiceLoader} (listed in
 * {@code META-INF/services/io.hodei.pool.provider.WorkerProviderFactory}), so a provider is added by shipping a
 * class and a line there: nothing else names it. See docs/providers.md.
 */
public interface WorkerProviderFactory {

  /** The name pools use in {@code provider}; unique among the factories on the class path. */
  String name();

  /** A provider on the pool verticle's Vert.x (called on its event loop, once per server). */
  WorkerProvider create(ProviderContext context);
}
