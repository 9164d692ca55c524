package io.hodei.http;

import io.hodei.scaling.ScalingAddresses;
import io.vertx.core.http.HttpMethod;

/** REST surface of the scaling domain: a pool's policies, triggers, cooldown and decision ledger. */
final class ScalingRoutes {
  private static final String BASE = "/api/v1/pools/{id}/scaling";

  private ScalingRoutes() {}

  static void bind(RestBinder rest) {
    items(rest, "policies", ScalingAddresses.POLICY_LIST, ScalingAddresses.POLICY_CREATE, ScalingAddresses.POLICY_GET,
        ScalingAddresses.POLICY_UPDATE, ScalingAddresses.POLICY_DELETE);
    items(rest, "triggers", ScalingAddresses.TRIGGER_LIST, ScalingAddresses.TRIGGER_CREATE,
        ScalingAddresses.TRIGGER_GET, ScalingAddresses.TRIGGER_UPDATE, ScalingAddresses.TRIGGER_DELETE);
    rest.forward(HttpMethod.GET, BASE + "/cooldown", ScalingAddresses.COOLDOWN_GET, 200);
    rest.forward(HttpMethod.PUT, BASE + "/cooldown", ScalingAddresses.COOLDOWN_SET, 200);
    rest.forward(HttpMethod.GET, BASE + "/history", ScalingAddresses.HISTORY, 200);
  }

  private static void items(RestBinder rest, String name, String list, String create, String get, String update,
                            String delete) {
    String collection = BASE + "/" + name;
    String item = collection + "/{item_id}";
    rest.forward(HttpMethod.GET, collection, list, 200);
    rest.forward(HttpMethod.POST, collection, create, 201);
    rest.forward(HttpMethod.GET, item, get, 200);
    rest.forward(HttpMethod.PUT, item, update, 200);
    rest.forward(HttpMethod.DELETE, item, delete, 204);
  }
}
