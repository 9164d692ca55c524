package io.hodei.common;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/** Structured audit lines (logger {@code hodei.audit}): who changed what, before and after, under which trace. */
public final class Audit {
  private static final Logger LOG = LoggerFactory.getLogger("hodei.audit");

  private Audit() {}

  public static void record(BusRequest request, String action, String resource, JsonObject before, JsonObject after) {
    Caller caller = request.caller();
    LOG.info("audit {} {}", action, resource,
        kv("audit", true),
        kv("action", action),
        kv("resource", resource),
        kv("actor_token_id", caller.tokenId()),
        kv("actor_role", caller.role().wire()),
        kv("actor_tenant_id", caller.tenantId()),
        kv("before", before == null ? null : before.getMap()),
        kv("after", after == null ? null : after.getMap()),
        kv("trace_id", request.traceId()));
  }
}
