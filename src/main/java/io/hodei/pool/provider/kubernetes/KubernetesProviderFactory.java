package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.hodei.pool.provider.ProviderContext;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProviderFactory;
import io.hodei.pool.provider.agent.AgentProvider;
import io.vertx.core.Vertx;

/** Registers the {@code kubernetes} provider: fabric8 clients on the server's own Vert.x. */
public final class KubernetesProviderFactory implements WorkerProviderFactory {
  /** The image the project's Dockerfile builds (docs/operations.md: {@code docker build -t hodei-pools .}). */
  public static final String DEFAULT_IMAGE = "hodei-pools";

  @Override public String name() { return KubernetesProvider.NAME; }

  @Override
  public WorkerProvider create(ProviderContext context) {
    Vertx vertx = context.vertx();
    return new KubernetesProvider(vertx, new KubernetesConfig.Defaults(DEFAULT_IMAGE, null),
        masterUrl -> client(vertx, masterUrl), () -> AgentProvider.of(vertx));
  }

  /** A client for {@code masterUrl}, or found the usual way (kubeconfig, in-cluster service account) when null. */
  static KubernetesClient client(Vertx vertx, String masterUrl) {
    Config config = Config.autoConfigure(null);
    if (masterUrl != null) config.setMasterUrl(masterUrl);
    return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(new Vertx5HttpClientFactory(vertx))
        .build();
  }
}
