package io.hodei.pool.provider.kubernetes;

import io.hodei.pool.provider.LocalProviderContractTest;
import io.hodei.pool.provider.ProviderContext;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProviderContractTest;
import io.hodei.pool.provider.agent.AgentProvider;
import io.hodei.pool.provider.agent.AgentProviderFactory;
import io.hodei.pool.provider.agent.EventBusAgent;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The Kubernetes provider passes the provider test kit: pods on the fabric8 mock API server, whose agents a test
 * kubelet attaches in this JVM ({@link EventBusAgent}, with the pod's agent id and pool). The pool's agent token is
 * answered by stand-ins of the token addresses (this kit runs no server).
 */
class KubernetesProviderContractTest extends WorkerProviderContractTest {
  private MockCluster cluster;
  private Kubelet kubelet;
  private AgentProvider agents;
  private final List<MessageConsumer<?>> tokenStandIns = new ArrayList<>();

  @Override
  protected WorkerProvider create(ProviderContext context) {
    cluster = new MockCluster();
    agents = (AgentProvider) new AgentProviderFactory().create(context);
    tokenStandIns.add(vertx.eventBus().<JsonObject>consumer(TenantAddresses.AGENT_TOKEN_ISSUE,
        msg -> msg.reply(new JsonObject().put("id", "atok-contract").put("token", "contract-secret"))));
    tokenStandIns.add(vertx.eventBus().<JsonObject>consumer(TenantAddresses.AGENT_TOKEN_LIST,
        msg -> msg.reply(new JsonObject().put("items", new JsonArray()))));
    String url = cluster.url();
    return new KubernetesProvider(vertx, new KubernetesConfig.Defaults("hodei-pools", "hodei:9090"),
        masterUrl -> KubernetesProviderFactory.client(vertx, url), () -> agents);
  }

  @Override
  protected WorkerProvider.JobSpec job(String jobId, int exitCode, long durationMs) {
    return LocalProviderContractTest.shellJob(jobId, exitCode, durationMs);
  }

  @Override
  protected void attached() {
    kubelet = new Kubelet(cluster.client, KubernetesConfig.DEFAULT_NAMESPACE, (pod, env) -> EventBusAgent.start(vertx,
        env.get("HODEI_AGENT_ID"), env.get("HODEI_AGENT_POOL"), 1, work.resolve(pod)));
  }

  @Override
  protected void detaching() throws Exception {
    kubelet.close();
    tokenStandIns.forEach(MessageConsumer::unregister);
    agents.close().await();
  }

  /** The mock API server closes after the provider: it waits for open connections, such as the informer's watch. */
  @Override
  protected void detached() {
    cluster.close();
  }
}
