package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

@Command(name = "queues", description = {"Per tenant: queued, running, entitled vs actual share; per pool: queued and running.", "Example: hodei queues"})
final class QueuesCommand extends ApiCommand {
  @Override
  protected int run() {
    JsonObject status = client().get("/api/v1/queues/status");
    if (printedAsData(status)) return ExitCodes.OK;
    print(out(), status, wide());
    return ExitCodes.OK;
  }

  static void print(PrintWriter out, JsonObject status, boolean wide) {
    Output.Table tenants = wide
        ? new Output.Table("TENANT", "WEIGHT", "QUEUED", "ADMITTED", "RUNNING", "OLDEST WAIT", "ENTITLED", "ACTUAL", "REMEMBERED", "HELD BY QUOTA")
        : new Output.Table("TENANT", "WEIGHT", "QUEUED", "RUNNING", "OLDEST WAIT", "ENTITLED", "ACTUAL");
    for (Object o : status.getJsonArray("tenants", new JsonArray())) {
      JsonObject t = (JsonObject) o;
      if (wide) {
        tenants.row(t.getString("tenant_id"), t.getValue("weight"), t.getValue("queued"), t.getValue("admitted"),
            t.getValue("running"), Output.seconds(t.getNumber("oldest_wait_seconds")), Output.percent(t.getNumber("entitled_share")),
            Output.percent(t.getNumber("actual_share")), Output.percent(t.getNumber("remembered_share")), t.getValue("quota_queued"));
      } else {
        tenants.row(t.getString("tenant_id"), t.getValue("weight"), t.getValue("queued"), t.getValue("running"),
            Output.seconds(t.getNumber("oldest_wait_seconds")), Output.percent(t.getNumber("entitled_share")),
            Output.percent(t.getNumber("actual_share")));
      }
    }
    if (tenants.isEmpty()) out.println("no tenant has queued or running jobs"); else tenants.print(out);
    out.println();
    Output.Table pools = new Output.Table("POOL", "STATE", "QUEUED", "WAITING FOR CAPACITY", "RUNNING", "OLDEST WAIT", "IDLE", "BUSY");
    for (Object o : status.getJsonArray("pools", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      JsonObject w = p.getJsonObject("workers", new JsonObject());
      pools.row(p.getString("pool_id"), p.getString("state"), p.getValue("queued"), p.getValue("queued_for_capacity"),
          p.getValue("running"), Output.seconds(p.getNumber("oldest_wait_seconds")), w.getValue("idle"), w.getValue("busy"));
    }
    if (pools.isEmpty()) out.println("no pool has queued or running jobs"); else pools.print(out);
  }
}
