package io.hodei.pool.provider.agent;

import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.JobStarted;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.provider.LocalProcessProvider;
import io.hodei.pool.provider.LocalProviderContractTest;
import io.hodei.pool.provider.LocalProviderSettings;
import io.hodei.pool.provider.ProviderContext;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProviderContractTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * The agent provider passes the provider test kit, with an agent attached in this JVM: it speaks the provider's
 * side of the stream protocol over the event bus (what the gRPC endpoint relays) and runs its jobs through the same
 * process runner as the real agent.
 */
class AgentProviderContractTest extends WorkerProviderContractTest {
  private static final String SESSION = "contract-session";
  private LocalProcessProvider runner;
  private MessageConsumer<Buffer> stream;
  private final Map<String, WorkerProvider.JobExecution> running = new HashMap<>();

  @Override
  protected WorkerProvider create(ProviderContext context) {
    return new AgentProviderFactory().create(context);
  }

  @Override
  protected WorkerProvider.JobSpec job(String jobId, int exitCode, long durationMs) {
    return LocalProviderContractTest.shellJob(jobId, exitCode, durationMs);
  }

  @Override
  protected void attached() throws Exception {
    int slots = 4;
    runner = new LocalProcessProvider(vertx, LocalProviderSettings.defaults().withWorkDir(work.resolve("agent")));
    for (int i = 0; i < slots; i++) {
      runner.provision(new WorkerProvider.WorkerSpec("slot-" + i, POOL, 1000, 1024, new JsonObject())).await();
    }
    Register register = Register.newBuilder().setAgentId("contract-agent").setPoolId(POOL).setHostname("here")
        .setSlots(slots).setCpuM(1000).setMemoryMb(1024).setVersion("test").build();
    on(() -> {
      stream = vertx.eventBus().localConsumer(AgentAddresses.session(SESSION), msg -> {
        if (msg.headers().contains(AgentAddresses.CLOSE)) return;
        try {
          fromServer(ServerMessage.parseFrom(msg.body().getBytes()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      });
      return null;
    });
    on(() -> vertx.eventBus().request(AgentAddresses.REGISTER, new JsonObject().put("session", SESSION)
        .put("token_pool_id", POOL).put("register", Base64.getEncoder().encodeToString(register.toByteArray()))))
        .toCompletionStage().toCompletableFuture().get();
  }

  @Override
  protected void detaching() throws Exception {
    on(() -> {
      stream.unregister();
      return null;
    });
    runner.close().await();
  }

  private void fromServer(ServerMessage message) {
    switch (message.getKindCase()) {
      case ASSIGN -> {
        var assign = message.getAssign();
        WorkerProvider.JobExecution execution = runner.run("slot-" + assign.getSlot(), new WorkerProvider.JobSpec(
            assign.getJobId(), assign.getCommandList(), new JsonObject(), new JsonObject(), assign.getTimeoutS(),
            assign.getCpuM(), assign.getMemoryMb()));
        running.put(assign.getJobId(), execution);
        toServer(AgentMessage.newBuilder().setStarted(JobStarted.newBuilder().setJobId(assign.getJobId())
            .setAttempt(assign.getAttempt()).setPid(execution.pid())).build());
        execution.result().onSuccess(result -> {
          running.remove(assign.getJobId());
          JobEnded.Builder ended = JobEnded.newBuilder().setJobId(assign.getJobId()).setAttempt(assign.getAttempt())
              .setOutcome(result.outcome().name().toLowerCase()).setDurationMs(result.durationMs())
              .setLog(result.log());
          if (result.exitCode() != null) ended.setHasExitCode(true).setExitCode(result.exitCode());
          if (result.errorType() != null) ended.setErrorType(result.errorType());
          toServer(AgentMessage.newBuilder().setEnded(ended).build());
        });
      }
      case KILL -> {
        WorkerProvider.JobExecution execution = running.get(message.getKill().getJobId());
        if (execution != null) execution.kill(message.getKill().getReason());
      }
      default -> { }
    }
  }

  private Future<?> toServer(AgentMessage message) {
    return vertx.eventBus().request(AgentAddresses.INBOUND, Buffer.buffer(message.toByteArray()),
        new DeliveryOptions().addHeader(AgentAddresses.SESSION, SESSION));
  }
}
