package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import picocli.CommandLine.Command;

@Command(name = "pools", description = {"List pools with their size and workers by state (like sinfo).", "Example: hodei pools -o wide"})
final class PoolsCommand extends ApiCommand {
  @Override
  protected int run() {
    JsonObject page = client().get("/api/v1/pools", RestClient.params("limit", 500));
    if (printedAsData(page)) return ExitCodes.OK;
    Instant now = now();
    Output.Table t = wide()
        ? new Output.Table("ID", "KIND", "PROVIDER", "STATE", "SIZE", "MIN", "MAX", "IDLE", "BUSY", "PROVISIONING", "UNHEALTHY", "WORKER", "PRICE/H", "LABELS", "AGE")
        : new Output.Table("ID", "KIND", "PROVIDER", "STATE", "SIZE", "IDLE", "BUSY", "UNHEALTHY", "AGE");
    for (Object o : items(page)) {
      JsonObject p = (JsonObject) o;
      JsonObject w = p.getJsonObject("workers", new JsonObject());
      String size = w.getInteger("total", 0) + "/" + p.getInteger("target_size");
      if (wide()) {
        t.row(p.getString("id"), p.getString("kind"), p.getString("provider"), p.getString("state"), size,
            p.getInteger("min_size"), p.getInteger("max_size"), w.getInteger("idle"), w.getInteger("busy"),
            w.getInteger("provisioning"), w.getInteger("unhealthy"),
            Output.cpu(p.getInteger("worker_cpu_m")) + "/" + Output.mem(p.getInteger("worker_memory_mb")),
            p.getValue("price_per_worker_hour"), Output.str(p.getJsonObject("labels")), Output.ago(p.getString("created_at"), now));
      } else {
        t.row(p.getString("id"), p.getString("kind"), p.getString("provider"), p.getString("state"), size,
            w.getInteger("idle"), w.getInteger("busy"), w.getInteger("unhealthy"), Output.ago(p.getString("created_at"), now));
      }
    }
    if (t.isEmpty()) out().println("no pools"); else t.print(out());
    return ExitCodes.OK;
  }
}
