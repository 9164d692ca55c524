package io.hodei.http;

import io.hodei.common.DomainException;
import io.hodei.cost.CostAddresses;
import io.hodei.cost.CostCsv;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/** REST surface of the cost domain: reports (JSON or CSV), breakdown, recommendations and price versions. */
final class CostRoutes {
  private static final String CSV = "text/csv";

  private CostRoutes() {}

  static void bind(RestBinder rest) {
    rest.forwardNegotiated(HttpMethod.GET, "/api/v1/cost-reports", CostAddresses.REPORT, CSV, CostCsv.CONTENT_TYPE,
        CostCsv::render);
    rest.forward(HttpMethod.POST, "/api/v1/cost-reports", CostAddresses.REPORT_CREATE, 202);
    rest.forwardNegotiated(HttpMethod.GET, "/api/v1/cost-reports/{id}", CostAddresses.REPORT_GET, CSV,
        CostCsv.CONTENT_TYPE, CostRoutes::storedCsv);
    rest.forward(HttpMethod.GET, "/api/v1/cost-optimization/breakdown", CostAddresses.BREAKDOWN, 200);
    rest.forward(HttpMethod.GET, "/api/v1/cost-optimization/recommendations", CostAddresses.RECOMMENDATIONS, 200);
    rest.forward(HttpMethod.POST, "/api/v1/cost/prices", CostAddresses.PRICE_SET, 201);
    rest.forward(HttpMethod.GET, "/api/v1/cost/prices", CostAddresses.PRICE_LIST, 200);
    rest.forward(HttpMethod.POST, "/api/v1/cost/sweep", CostAddresses.SWEEP, 200);
  }

  /** A stored report as CSV once it is done; before that there is nothing to render (409). */
  private static String storedCsv(JsonObject report) {
    JsonObject result = report.getJsonObject("result");
    if (!"done".equals(report.getString("status")) || result == null) {
      throw DomainException.conflict("cost report " + report.getString("id") + " is " + report.getString("status")
          + "; CSV is available once it is done");
    }
    return CostCsv.render(result);
  }
}
