package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One Kubernetes pool's API client, the informer on its pods and its agent-token Secret. Kubernetes API calls are
 * blocking in fabric8: they run on worker threads and their futures complete back on the caller's context.
 */
final class PoolPods {
  private static final Logger LOG = LoggerFactory.getLogger(PoolPods.class);

  final String poolId;
  final KubernetesConfig config;
  private final Vertx vertx;
  private final Future<KubernetesClient> client;
  /** Informer events (pod, deleted), on an informer thread. */
  private final BiConsumer<Pod, Boolean> events;
  private Future<Void> watching;
  private SharedIndexInformer<Pod> informer;
  private boolean stopped;
  private Future<Void> secret;

  PoolPods(Vertx vertx, String poolId, KubernetesConfig config, Future<KubernetesClient> client,
           BiConsumer<Pod, Boolean> events) {
    this.vertx = vertx;
    this.poolId = poolId;
    this.config = config;
    this.client = client;
    this.events = events;
  }

  /** A (blocking) call of the Kubernetes API, on a worker thread. */
  <T> Future<T> api(Function<KubernetesClient, T> call) {
    return client.compose(c -> vertx.executeBlocking(() -> call.apply(c), false));
  }

  /** Starts the informer on the pool's pods (label {@code hodei.io/pool}) once; again after a failed start. */
  Future<Void> watch() {
    if (watching == null || watching.failed()) {
      ResourceEventHandler<Pod> handler = new ResourceEventHandler<>() {
        @Override public void onAdd(Pod pod) { events.accept(pod, false); }

        @Override public void onUpdate(Pod before, Pod pod) { events.accept(pod, false); }

        @Override public void onDelete(Pod pod, boolean unknownFinalState) { events.accept(pod, true); }
      };
      watching = api(c -> c.pods().inNamespace(config.namespace()).withLabel(AgentPods.POOL_LABEL, poolId)
          .inform(handler, 0)).map(started -> {
            informer = started;
            if (stopped) started.stop();
            return null;
          });
    }
    return watching;
  }

  Future<Void> stopWatching() {
    stopped = true;
    SharedIndexInformer<Pod> running = informer;
    informer = null;
    return running == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      running.stop();
      return null;
    }, false);
  }

  /**
   * The Secret with the pool's agent token: kept when the token it names is still active, else a new token is
   * issued for the pool and the Secret written (once per pool and server process; again after a failure).
   */
  Future<Void> secret() {
    if (secret == null || secret.failed()) {
      String name = AgentPods.secretName(poolId);
      secret = api(c -> c.secrets().inNamespace(config.namespace()).withName(name).get())
          .compose(existing -> {
            String tokenId = existing == null || existing.getMetadata().getAnnotations() == null ? null
                : existing.getMetadata().getAnnotations().get(AgentPods.TOKEN_ID_ANNOTATION);
            return tokenId == null ? Future.succeededFuture(false) : tokenActive(tokenId);
          })
          .compose(active -> active ? Future.<Void>succeededFuture() : issueToken().compose(token -> {
            Secret s = AgentPods.secret(poolId, config.namespace(), token.getString("id"), token.getString("token"));
            return api(c -> c.secrets().inNamespace(config.namespace()).resource(s)
                .createOr(NonDeletingOperation::update)).<Void>mapEmpty();
          }));
    }
    return secret;
  }

  private Future<Boolean> tokenActive(String tokenId) {
    return Bus.request(vertx, TenantAddresses.AGENT_TOKEN_LIST, BusRequest.envelope(new JsonObject()
        .put("id", poolId), new JsonObject(), new JsonObject(), null), Caller.system(), null).map(list -> {
          JsonArray items = list.getJsonArray("items", new JsonArray());
          for (int i = 0; i < items.size(); i++) {
            JsonObject token = items.getJsonObject(i);
            if (tokenId.equals(token.getString("id")) && token.getValue("revoked_at") == null) return true;
          }
          return false;
        });
  }

  private Future<JsonObject> issueToken() {
    return Bus.request(vertx, TenantAddresses.AGENT_TOKEN_ISSUE, BusRequest.envelope(new JsonObject()
        .put("id", poolId), new JsonObject(), new JsonObject().put("name", "kubernetes pods"), null),
        Caller.system(), null).onSuccess(token -> LOG.info("agent token issued for the pool's pods",
        kv("pool", poolId), kv("token_id", token.getString("id"))));
  }
}
