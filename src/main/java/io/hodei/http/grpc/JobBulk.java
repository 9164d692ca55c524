package io.hodei.http.grpc;

import io.hodei.common.BusRequest;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.CancelJobResult;
import io.hodei.grpc.v1.CancelJobsRequest;
import io.hodei.grpc.v1.CancelJobsResponse;
import io.hodei.grpc.v1.FieldError;
import io.hodei.grpc.v1.JobFilter;
import io.hodei.grpc.v1.ReprioritizeJobResult;
import io.hodei.grpc.v1.ReprioritizeJobsRequest;
import io.hodei.grpc.v1.ReprioritizeJobsResponse;
import io.hodei.grpc.v1.SubmitJobError;
import io.hodei.grpc.v1.SubmitJobRequest;
import io.hodei.grpc.v1.SubmitJobResult;
import io.hodei.grpc.v1.SubmitJobsRequest;
import io.hodei.grpc.v1.SubmitJobsResponse;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The gRPC calls on many jobs at once, made of the scheduler's one-job requests (so each job gets exactly the
 * rules, quotas and errors of its own call): CancelJobs by ids or by filter, ReprioritizeJobs, and SubmitJobs with
 * {@code each}
 * (every submission accepted or refused on its own). At most {@value #PARALLEL} requests are in flight per call.
 */
final class JobBulk {
  static final int MAX_JOBS = 1000;
  static final int PARALLEL = 32;
  private static final int LIST_PAGE = 500;
  private static final List<String> NOT_FINAL = List.of("queued", "admitted", "running");

  private JobBulk() {}

  static Future<CancelJobsResponse> cancel(GrpcTranslator.Call call, CancelJobsRequest request) {
    boolean byIds = request.getIdsCount() > 0;
    boolean byFilter = request.hasFilter() && !request.getFilter().equals(JobFilter.getDefaultInstance());
    if (byIds == byFilter) {
      return Future.failedFuture(invalid("ids", "give either ids or a filter (tenant_id, states, pool_id, labels)"));
    }
    if (request.getIdsCount() > MAX_JOBS) {
      return Future.failedFuture(invalid("ids", "at most " + MAX_JOBS + " ids"));
    }
    Future<List<String>> ids = byIds ? Future.succeededFuture(new ArrayList<>(new LinkedHashSet<>(
        request.getIdsList()))) : matching(call, request.getFilter());
    return ids.compose(list -> inBatches(list, id -> call.request(SchedulerAddresses.CANCEL,
            BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(), new JsonObject(), null))
        .transform(ar -> {
          CancelJobResult.Builder result = CancelJobResult.newBuilder().setId(id).setCancelled(ar.succeeded());
          if (ar.failed()) {
            GrpcErrors.Failure failure = GrpcErrors.of(ar.cause());
            result.setCode(failure.status().code).setMessage(failure.message());
          }
          return Future.succeededFuture(result.build());
        })))
        .map(results -> CancelJobsResponse.newBuilder().addAllResults(results).build());
  }

  /** The ids of the jobs the filter matches (at most {@value #MAX_JOBS}), listed as the caller may see them. */
  private static Future<List<String>> matching(GrpcTranslator.Call call, JobFilter filter) {
    for (String state : filter.getStatesList()) {
      if (!NOT_FINAL.contains(state)) {
        return Future.failedFuture(invalid("filter.states", "'" + state + "' is not one of " + NOT_FINAL
            + " (a final job cannot be cancelled)"));
      }
    }
    List<String> states = filter.getStatesCount() == 0 ? NOT_FINAL : filter.getStatesList();
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String state : states) {
      chain = chain.compose(v -> page(call, filter, state, null, ids));
    }
    return chain.map(v -> ids);
  }

  private static Future<Void> page(GrpcTranslator.Call call, JobFilter filter, String state, String cursor,
                                   List<String> ids) {
    JsonObject query = new JsonObject().put("state", state).put("limit", Integer.toString(LIST_PAGE));
    if (!filter.getTenantId().isEmpty()) query.put("tenant", filter.getTenantId());
    if (!filter.getPoolId().isEmpty()) query.put("pool", filter.getPoolId());
    if (cursor != null) query.put("cursor", cursor);
    return call.request(SchedulerAddresses.LIST, BusRequest.envelope(new JsonObject(), query, new JsonObject(), null))
        .compose(page -> {
          for (Object item : page.getJsonArray("items", new JsonArray())) {
            JsonObject job = (JsonObject) item;
            if (ids.size() < MAX_JOBS && labelsMatch(job.getJsonObject("labels"), filter.getLabelsMap())) {
              ids.add(job.getString("id"));
            }
          }
          String next = page.getString("next_cursor");
          return next == null || ids.size() >= MAX_JOBS ? Future.succeededFuture()
              : page(call, filter, state, next, ids);
        });
  }

  private static boolean labelsMatch(JsonObject labels, Map<String, String> wanted) {
    if (wanted.isEmpty()) return true;
    if (labels == null) return false;
    return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.getValue(e.getKey())));
  }

  /** ReprioritizeJobs: the scheduler's reprioritize request per job, one result per job in request order. */
  static Future<ReprioritizeJobsResponse> reprioritize(GrpcTranslator.Call call, ReprioritizeJobsRequest request) {
    if (request.getIdsCount() == 0 || request.getIdsCount() > MAX_JOBS) {
      return Future.failedFuture(invalid("ids", "give 1 to " + MAX_JOBS + " job ids"));
    }
    if (!request.hasPriority()) return Future.failedFuture(invalid("priority", "is required"));
    JsonObject body = new JsonObject().put("priority", request.getPriority());
    return inBatches(new ArrayList<>(new LinkedHashSet<>(request.getIdsList())), id -> call.request(
            SchedulerAddresses.REPRIORITIZE, BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(),
                body, null))
        .transform(ar -> {
          ReprioritizeJobResult.Builder result = ReprioritizeJobResult.newBuilder().setId(id)
              .setReprioritized(ar.succeeded());
          if (ar.succeeded()) {
            result.setJob(JobGrpc.job(ar.result()));
          } else {
            GrpcErrors.Failure failure = GrpcErrors.of(ar.cause());
            result.setCode(failure.status().code).setMessage(failure.message());
          }
          return Future.succeededFuture(result.build());
        }))
        .map(results -> ReprioritizeJobsResponse.newBuilder().addAllResults(results).build());
  }

  /** SubmitJobs with {@code each}: one SubmitJob per submission, each result in request order. */
  static Future<SubmitJobsResponse> submitEach(GrpcTranslator.Call call, SubmitJobsRequest request) {
    if (request.getJobsCount() == 0) return Future.failedFuture(invalid("jobs", "give at least one submission"));
    if (request.getJobsCount() > MAX_JOBS) {
      return Future.failedFuture(invalid("jobs", "a batch holds at most " + MAX_JOBS + " jobs"));
    }
    List<Integer> indexes = new ArrayList<>();
    for (int i = 0; i < request.getJobsCount(); i++) indexes.add(i);
    return inBatches(indexes, i -> {
      SubmitJobRequest submission = request.getJobs(i);
      return call.request(SchedulerAddresses.SUBMIT, JobGrpc.submission(submission)).transform(ar -> {
        SubmitJobResult.Builder result = SubmitJobResult.newBuilder().setIndex(i);
        if (ar.succeeded()) {
          result.setJob(JobGrpc.job(ar.result()));
        } else {
          GrpcErrors.Failure failure = GrpcErrors.of(ar.cause());
          SubmitJobError.Builder error = SubmitJobError.newBuilder().setCode(failure.status().code)
              .setMessage(failure.message());
          for (Object item : failure.fieldErrors()) {
            if (item instanceof JsonObject e) {
              error.addFieldErrors(FieldError.newBuilder().setField(String.valueOf(e.getString("field")))
                  .setMessage(String.valueOf(e.getString("message"))));
            }
          }
          result.setError(error);
        }
        return Future.succeededFuture(result.build());
      });
    }).map(results -> SubmitJobsResponse.newBuilder().addAllResults(results).build());
  }

  /** {@code work} on every item, {@value #PARALLEL} at a time; the results in the items' order. */
  private static <T, R> Future<List<R>> inBatches(List<T> items, Function<T, Future<R>> work) {
    List<R> results = new ArrayList<>(items.size());
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < items.size(); from += PARALLEL) {
      List<T> batch = items.subList(from, Math.min(items.size(), from + PARALLEL));
      chain = chain.compose(v -> {
        List<Future<R>> running = batch.stream().map(work).toList();
        return Future.all(running).map(all -> {
          running.forEach(f -> results.add(f.result()));
          return null;
        });
      });
    }
    return chain.map(v -> results);
  }

  private static DomainException invalid(String field, String message) {
    return new DomainException(400, "Bad Request", field + ": " + message, new JsonObject().put("errors",
        new JsonArray().add(new JsonObject().put("field", field).put("message", message))));
  }
}
