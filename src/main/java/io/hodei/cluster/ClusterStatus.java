package io.hodei.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * What {@code GET /health} says about the cluster: {@code {node, leader, members}} of this node, kept in a local map
 * by {@link Leadership} and read by the HTTP verticle. Absent on a single server.
 */
public final class ClusterStatus {
  private static final String MAP = "hodei.cluster";
  private static final String KEY = "status";

  private ClusterStatus() {}

  static void publish(Vertx vertx, String node, String leader, int members) {
    vertx.sharedData().<String, JsonObject>getLocalMap(MAP).put(KEY, new JsonObject().put("node", node)
        .put("leader", leader).put("members", members));
  }

  /** This node's cluster status, or null when it is not a cluster node. */
  public static JsonObject read(Vertx vertx) {
    return vertx.sharedData().<String, JsonObject>getLocalMap(MAP).get(KEY);
  }
}
