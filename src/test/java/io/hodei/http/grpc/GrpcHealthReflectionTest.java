package io.hodei.http.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import io.hodei.support.Prometheus;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import io.vertx.grpc.reflection.v1.ServiceResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** grpc.health.v1 and reflection v1 on the REST port, called without a token like a probe or grpcurl would. */
class GrpcHealthReflectionTest {
  private static final ServiceMethod<HealthCheckResponse, HealthCheckRequest> CHECK = ServiceMethod.client(
      ServiceName.create("grpc.health.v1.Health"), "Check", GrpcMessageEncoder.encoder(),
      GrpcMessageDecoder.decoder(HealthCheckResponse.newBuilder()));
  private static final ServiceMethod<ServerReflectionResponse, ServerReflectionRequest> REFLECTION =
      ServiceMethod.client(ServiceName.create("grpc.reflection.v1.ServerReflection"), "ServerReflectionInfo",
          GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(ServerReflectionResponse.newBuilder()));

  private static TestServer server;
  private static Vertx vertx;
  private static GrpcClient client;
  private static SocketAddress address;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of());
    vertx = Vertx.vertx();
    client = GrpcClient.client(vertx);
    address = SocketAddress.inetSocketAddress(server.port(), "127.0.0.1");
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static HealthCheckResponse check(String service) {
    GrpcClientRequest<HealthCheckRequest, HealthCheckResponse> request = client.request(address, CHECK).await();
    GrpcClientResponse<HealthCheckRequest, HealthCheckResponse> response =
        request.send(HealthCheckRequest.newBuilder().setService(service).build()).await();
    return response.last().await();
  }

  private static ServerReflectionResponse reflect(ServerReflectionRequest question) {
    GrpcClientRequest<ServerReflectionRequest, ServerReflectionResponse> request =
        client.request(address, REFLECTION).await();
    GrpcClientResponse<ServerReflectionRequest, ServerReflectionResponse> response = request.send(question).await();
    ServerReflectionResponse answer = response.last().await();
    assertThat(response.status()).isEqualTo(GrpcStatus.OK);
    return answer;
  }

  @Test
  void healthReportsServingForTheServerAndTheTenantService() {
    assertThat(check("").getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(check("hodei.v1.TenantService").getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void reflectionListsAndDescribesTheTenantService() throws InvalidProtocolBufferException {
    ServerReflectionResponse list = reflect(ServerReflectionRequest.newBuilder().setListServices("").build());
    assertThat(list.getListServicesResponse().getServiceList()).extracting(ServiceResponse::getName)
        .contains("hodei.v1.TenantService", "grpc.health.v1.Health");

    ServerReflectionResponse file = reflect(ServerReflectionRequest.newBuilder()
        .setFileContainingSymbol("hodei.v1.TenantService").build());
    List<ByteString> files = file.getFileDescriptorResponse().getFileDescriptorProtoList();
    assertThat(files).isNotEmpty();
    FileDescriptorProto proto = FileDescriptorProto.parseFrom(files.get(0));
    assertThat(proto.getPackage()).isEqualTo("hodei.v1");
    assertThat(proto.getService(0).getMethodList()).extracting(MethodDescriptorProto::getName)
        .startsWith("CreateTenant", "GetTenant", "ListTenants", "UpdateTenant", "DeleteTenant", "SetQuota",
            "GetQuota").contains("GetTenantMetrics", "RequestBurstCapacity", "IssueToken");
  }

  @Test
  void healthChecksAreCountedWithBoundedMethodLabels() {
    check("");
    List<Prometheus.Sample> samples = Prometheus.parse(server.get("/metrics", null).body());
    assertThat(samples).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_grpc_requests_total");
      assertThat(s.labels()).containsEntry("method", "grpc.health.v1.Health/Check").containsEntry("status_code", "OK");
    });
  }
}
