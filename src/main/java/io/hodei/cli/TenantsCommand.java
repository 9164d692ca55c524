package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import picocli.CommandLine.Command;

@Command(name = "tenants", description = {"List tenants with weight, status and quota.", "Example: hodei tenants"})
final class TenantsCommand extends ApiCommand {
  @Override
  protected int run() {
    JsonObject page = client().get("/api/v1/tenants", RestClient.params("limit", 500));
    if (printedAsData(page)) return ExitCodes.OK;
    Instant now = now();
    Output.Table t = new Output.Table("ID", "NAME", "WEIGHT", "STATUS", "CPU QUOTA", "MEM QUOTA", "MAX RUNNING", "MAX QUEUED", "BURST", "AGE");
    for (Object o : items(page)) {
      JsonObject tenant = (JsonObject) o;
      JsonObject q = tenant.getJsonObject("quota", new JsonObject());
      t.row(tenant.getString("id"), tenant.getString("name"), tenant.getValue("weight"), tenant.getString("status"),
          Output.cpu(q.getInteger("cpu_m")), Output.mem(q.getInteger("memory_mb")), q.getValue("max_concurrent_jobs"),
          q.getValue("max_queued_jobs"), tenant.getValue("burst") == null ? "-" : "active",
          Output.ago(tenant.getString("created_at"), now));
    }
    if (t.isEmpty()) out().println("no tenants"); else t.print(out());
    return ExitCodes.OK;
  }
}
