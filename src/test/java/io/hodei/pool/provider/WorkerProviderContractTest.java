package io.hodei.pool.provider;

import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.WorkerSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provider test kit: what every {@link WorkerProvider} must do, whatever runs its jobs. A provider's test
 * extends this class, says how to make the provider and how to express "a job that exits with N after D ms", and
 * runs every check here (like vertx-sql-client's TCK for its drivers). Calls are made on one Vert.x context, as the
 * pool verticle makes them.
 */
public abstract class WorkerProviderContractTest {
  protected static final String POOL = "contract-pool";

  @TempDir
  protected Path work;
  protected Vertx vertx;
  protected Context context;
  protected WorkerProvider provider;

  /** A new provider of the kind under test, created on {@link #context}. */
  protected abstract WorkerProvider create(ProviderContext providerContext) throws Exception;

  /** A job that ends with {@code exitCode} after about {@code durationMs}. */
  protected abstract JobSpec job(String jobId, int exitCode, long durationMs);

  /** Called after the provider exists, before each check (an agent provider gets its agents here). */
  protected void attached() throws Exception {}

  /** Called before the provider is closed. */
  protected void detaching() throws Exception {}

  /** Called after the provider is closed (what it talked to goes here: a server waits for its open connections). */
  protected void detached() throws Exception {}

  @BeforeEach
  void createProvider() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    ProviderContext providerContext = new ProviderContext(vertx, null, work.resolve("jobs"), 7, 30);
    provider = on(() -> create(providerContext));
    attached();
  }

  @AfterEach
  void closeProvider() throws Exception {
    detaching();
    Eventually.await(onFuture(() -> provider.close()));
    detached();
    vertx.close().await();
  }

  @Test
  void isFoundByItsNameInTheRegistry() {
    Map<String, WorkerProvider> all = ProviderFactory.create(new ProviderContext(vertx, null, work, 1, 30));
    try {
      assertThat(all).containsKey(provider.name());
      assertThat(all.get(provider.name())).hasSameClassAs(provider);
    } finally {
      all.values().forEach(p -> Eventually.await(p.close()));
    }
  }

  @Test
  void aProvisionedWorkerIsAliveUntilTerminated() throws Exception {
    String worker = provisioned();
    assertThat(Eventually.await(onFuture(() -> provider.probe(worker)))).isTrue();
    Eventually.await(onFuture(() -> provider.terminate(worker)));
    assertThat(Eventually.await(onFuture(() -> provider.probe(worker)))).isFalse();
  }

  @Test
  void aJobThatExitsZeroSucceedsAndOneThatExitsNonZeroFailsWithItsCode() throws Exception {
    String worker = provisioned();
    JobResult ok = Eventually.await(onFuture(() -> provider.run(worker, job(id(), 0, 10)).result()));
    assertThat(ok.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(ok.errorType()).isNull();
    assertThat(ok.log()).isNotNull();
    JobResult failed = Eventually.await(onFuture(() -> provider.run(worker, job(id(), 3, 10)).result()));
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.exitCode()).isEqualTo(3);
    assertThat(failed.errorType()).isEqualTo("exit_code");
    assertThat(failed.log().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(JobResult.MAX_LOG_BYTES);
  }

  @Test
  void aKilledJobEndsKilledOnceAndFreesItsWorker() throws Exception {
    String worker = provisioned();
    JobExecution running = on(() -> provider.run(worker, job(id(), 0, 60_000)));
    Eventually.await(onFuture(() -> running.kill("contract test")));
    JobResult result = Eventually.await(running.result());
    assertThat(result.outcome()).isEqualTo(Outcome.KILLED);
    assertThat(result.errorType()).isEqualTo("killed");
    JobResult next = Eventually.await(onFuture(() -> provider.run(worker, job(id(), 0, 10)).result()));
    assertThat(next.outcome()).as("the worker takes the next job").isEqualTo(Outcome.SUCCEEDED);
  }

  @Test
  void terminatingABusyWorkerEndsItsJobAsLost() throws Exception {
    String worker = provisioned();
    JobExecution running = on(() -> provider.run(worker, job(id(), 0, 60_000)));
    Eventually.await(onFuture(() -> provider.terminate(worker)));
    JobResult result = Eventually.await(running.result());
    assertThat(result.outcome()).isEqualTo(Outcome.LOST);
    assertThat(result.errorType()).isEqualTo("worker_lost");
  }

  @Test
  void aJobOnAnUnknownWorkerFailsAsWorkerLostInsteadOfThrowing() throws Exception {
    JobResult result = Eventually.await(onFuture(() -> provider.run("no-such-worker", job(id(), 0, 10)).result()));
    assertThat(result.outcome()).isIn(Outcome.FAILED, Outcome.LOST);
    assertThat(result.errorType()).isEqualTo("worker_lost");
  }

  @Test
  void anUnknownConfigurationKeyIsReported() {
    assertThat(provider.validateConfig(new JsonObject().put("no_such_key", 1))).isNotEmpty();
  }

  protected String provisioned() throws Exception {
    String worker = "w-" + UUID.randomUUID();
    Eventually.await(onFuture(() -> provider.provision(new WorkerSpec(worker, POOL, 1000, 1024, new JsonObject()))));
    return worker;
  }

  protected static String id() { return "j-" + UUID.randomUUID(); }

  /** Runs {@code call} on the provider's context and waits for its value. */
  protected <T> T on(Callable<T> call) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> {
      try {
        promise.complete(call.call());
      } catch (Exception | Error e) {
        promise.fail(e);
      }
    });
    return Eventually.await(promise.future());
  }

  /** Starts {@code call} on the provider's context; its future completes as the provider completes it. */
  protected <T> Future<T> onFuture(Callable<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> {
      try {
        call.call().onComplete(promise);
      } catch (Exception e) {
        promise.fail(e);
      }
    });
    return promise.future();
  }
}
