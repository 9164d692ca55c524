package io.hodei.http;

import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.http.HttpMethod;

/** REST surface of the scheduler. */
final class JobRoutes {
  private JobRoutes() {}

  static void bind(RestBinder rest) {
    rest.forward(HttpMethod.POST, "/api/v1/jobs:batch", SchedulerAddresses.SUBMIT_BATCH, 201);
    rest.forward(HttpMethod.POST, "/api/v1/jobs", SchedulerAddresses.SUBMIT, 201);
    rest.forward(HttpMethod.GET, "/api/v1/jobs", SchedulerAddresses.LIST, 200);
    rest.forward(HttpMethod.GET, "/api/v1/jobs/{id}", SchedulerAddresses.GET, 200);
    rest.forward(HttpMethod.POST, "/api/v1/jobs/{id}/cancel", SchedulerAddresses.CANCEL, 200);
    rest.forward(HttpMethod.GET, "/api/v1/jobs/{id}/events", SchedulerAddresses.EVENTS, 200);
    rest.forward(HttpMethod.GET, "/api/v1/jobs/{id}/logs", SchedulerAddresses.LOGS, 200);
    rest.forward(HttpMethod.GET, "/api/v1/jobs/{id}/sla", SchedulerAddresses.SLA, 200);
    rest.forward(HttpMethod.GET, "/api/v1/queues/status", SchedulerAddresses.QUEUE_STATUS, 200);
    rest.forward(HttpMethod.POST, "/api/v1/quotas/enforce", SchedulerAddresses.QUOTA_ENFORCE, 200);
  }
}
