package io.hodei.pool.provider.agent;

import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.JobStarted;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.provider.LocalProcessProvider;
import io.hodei.pool.provider.LocalProviderSettings;
import io.hodei.pool.provider.WorkerProvider;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An agent attached in this JVM: it speaks the provider's side of the stream protocol over the event bus (what the
 * gRPC endpoint relays) and runs its jobs through the same process runner as the real agent. For provider tests
 * that need no server.
 */
public final class EventBusAgent implements AutoCloseable {
  private final Vertx vertx;
  private final String session;
  private final LocalProcessProvider runner;
  private final Map<String, WorkerProvider.JobExecution> running = new ConcurrentHashMap<>();
  private MessageConsumer<Buffer> stream;

  private EventBusAgent(Vertx vertx, String session, Path workDir) {
    this.vertx = vertx;
    this.session = session;
    this.runner = new LocalProcessProvider(vertx, LocalProviderSettings.defaults().withWorkDir(workDir));
  }

  /** Provisions the slots, listens to its stream and registers {@code agentId} into {@code pool}. */
  public static EventBusAgent start(Vertx vertx, String agentId, String pool, int slots, Path workDir) {
    EventBusAgent agent = new EventBusAgent(vertx, "session-" + agentId, workDir);
    for (int i = 0; i < slots; i++) {
      agent.runner.provision(new WorkerProvider.WorkerSpec("slot-" + i, pool, 1000, 1024, new JsonObject())).await();
    }
    agent.stream = vertx.eventBus().localConsumer(AgentAddresses.session(agent.session), msg -> {
      if (msg.headers().contains(AgentAddresses.CLOSE)) return;
      try {
        agent.fromServer(ServerMessage.parseFrom(msg.body().getBytes()));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    });
    agent.stream.completion().await();
    Register register = Register.newBuilder().setAgentId(agentId).setPoolId(pool).setHostname("here")
        .setSlots(slots).setCpuM(1000).setMemoryMb(1024).setVersion("test").build();
    vertx.eventBus().request(AgentAddresses.REGISTER, new JsonObject().put("session", agent.session)
        .put("token_pool_id", pool).put("register", Base64.getEncoder().encodeToString(register.toByteArray())))
        .await();
    return agent;
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
        new DeliveryOptions().addHeader(AgentAddresses.SESSION, session));
  }

  /** Stops listening and kills its jobs; the provider sees the stream end. */
  @Override
  public void close() {
    stream.unregister().await();
    vertx.eventBus().send(AgentAddresses.DISCONNECTED, new JsonObject().put("session", session));
    runner.close().await();
  }
}
