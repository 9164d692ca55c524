package io.hodei.http;

import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.hodei.grpc.v1.CostOptimizationServiceGrpcService;
import io.hodei.grpc.v1.JobServiceGrpcService;
import io.hodei.grpc.v1.ObservabilityServiceGrpcService;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcService;
import io.hodei.grpc.v1.TenantServiceGrpcService;
import io.hodei.grpc.v1.WorkerServiceGrpcService;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.hodei.support.RawHttp;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile bytes at every operation of the OpenAPI document, against the real server, as the admin, as a tenant's
 * admin and without a token. The rule asserted, for every path and method of the document:
 * <ul>
 *   <li>a path parameter holding a NUL ({@code %00}) or an invalid percent escape ({@code %zz}, a lone {@code %}),
 *   a query string holding either, a raw NUL in the request target and a header holding a NUL are answered
 *   <b>400 application/problem+json</b> with a {@code trace_id} equal to {@code X-Trace-Id}, whoever calls
 *   (they are refused before routing and authentication);</li>
 *   <li>an operation with a JSON request body, sent a body with a NUL in a string (at the top and nested in an object
 *   in an array), answers 400 problem+json naming the NUL for both tokens (401 without a token: authentication comes
 *   before the body is read);</li>
 *   <li>and, as a control, the same operations with harmless values ({@code x} in every path parameter, an empty
 *   object as body) never answer 5xx.</li>
 * </ul>
 * No exceptions (404/405/403) are needed: the edge answers before any route decides. The gRPC services get the same
 * sweep: every method of every hodei.v1 service, sent a request with a NUL in each of its string fields (nested
 * messages and maps included), ends INVALID_ARGUMENT for both tokens, never INTERNAL or UNKNOWN.
 */
class HostileInputTest {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");
  private static final Pattern PARAM = Pattern.compile("\\{([a-z_]+)}");
  private static TestServer server;
  private static String tenantAdmin;
  private static List<String[]> operations;
  private static JsonObject document;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(Map.of());
    tenantAdmin = new Fixtures(server).tenant("edge", null, 1, "tenant-admin");
    try (InputStream in = HostileInputTest.class.getResourceAsStream("/openapi.json")) {
      document = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    operations = new ArrayList<>();
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (METHODS.contains(method)) operations.add(new String[] {method.toUpperCase(), path});
      }
    }
    assertThat(operations).hasSizeGreaterThan(50);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static Map<String, String> auth(String token) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (token != null) headers.put("Authorization", "Bearer " + token);
    return headers;
  }

  private static String fill(String template, String value) {
    Matcher m = PARAM.matcher(template);
    return m.replaceAll(Matcher.quoteReplacement(value));
  }

  private static void assertEdgeProblem(RawHttp.Reply r, String what) {
    assertThat(r.status()).as(what + " -> " + r).isEqualTo(400);
    assertThat(r.header("content-type")).as(what).isEqualTo("application/problem+json");
    JsonObject problem = r.json();
    assertThat(problem.getInteger("status")).as(what).isEqualTo(400);
    assertThat(problem.getString("title")).as(what).isNotBlank();
    assertThat(problem.getString("detail")).as(what).isNotBlank();
    assertThat(problem.getString("trace_id")).as(what).matches("[0-9a-f]{32}").isEqualTo(r.header("x-trace-id"));
    assertThat(r.body()).as(what).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void hostileTargetsAreRefusedOnEveryOperation() {
    int checked = 0;
    for (String[] op : operations) {
      String method = op[0];
      String template = op[1];
      String plain = fill(template, "x");
      List<String> targets = new ArrayList<>();
      if (PARAM.matcher(template).find()) {
        targets.add(fill(template, "a%00b"));
        targets.add(fill(template, "a%zzb"));
        targets.add(fill(template, "a%"));
        targets.add(fill(template, "a%c3%28"));
      }
      targets.add(plain + "?cursor=a%00b");
      targets.add(plain + "?limit=1&cursor=%zz");
      targets.add(plain + "?q=%e");
      targets.add(plain + "?cursor=a\0b");
      for (String token : new String[] {TestServer.ADMIN_TOKEN, tenantAdmin, null}) {
        for (String target : targets) {
          String body = method.equals("GET") || method.equals("DELETE") ? null : "{}";
          assertEdgeProblem(RawHttp.send(server.port(), method, target, auth(token), body), method + " " + target);
          checked++;
        }
        Map<String, String> headers = auth(token);
        headers.put("Idempotency-Key", "k\0ey");
        assertEdgeProblem(RawHttp.send(server.port(), method, plain, headers, null), method + " " + plain + " NUL header");
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(1000);
  }

  @Test
  void nulInAnyJsonStringIsRefusedOnEveryOperationWithABody() {
    int checked = 0;
    JsonObject paths = document.getJsonObject("paths");
    for (String[] op : operations) {
      JsonObject operation = paths.getJsonObject(op[1]).getJsonObject(op[0].toLowerCase());
      if (operation.getJsonObject("requestBody") == null) continue;
      String target = fill(op[1], "x");
      for (String body : bodiesWithNul(operation)) {
        for (String token : new String[] {TestServer.ADMIN_TOKEN, tenantAdmin}) {
          RawHttp.Reply r = RawHttp.send(server.port(), op[0], target, auth(token), body);
          assertEdgeProblem(r, op[0] + " " + target + " " + body);
          assertThat(r.json().getString("detail")).as(op[0] + " " + target).contains("NUL");
          checked++;
        }
        RawHttp.Reply anonymous = RawHttp.send(server.port(), op[0], target, auth(null), body);
        assertThat(anonymous.status()).as(op[0] + " " + target + " " + anonymous).isIn(400, 401);
      }
    }
    assertThat(checked).isGreaterThan(40);
  }

  /** A NUL in the first string property of the body's schema (or "name"), and one nested in an array of objects. */
  private static List<String> bodiesWithNul(JsonObject operation) {
    JsonObject content = operation.getJsonObject("requestBody").getJsonObject("content", new JsonObject());
    JsonObject schema = content.getJsonObject("application/json", new JsonObject())
        .getJsonObject("schema", new JsonObject());
    schema = resolve(schema);
    String field = "name";
    JsonObject properties = schema.getJsonObject("properties", new JsonObject());
    for (String name : properties.fieldNames()) {
      if ("string".equals(resolve(properties.getJsonObject(name)).getString("type"))) {
        field = name;
        break;
      }
    }
    JsonObject top = new JsonObject().put(field, "a\u0000b");
    JsonObject nested = new JsonObject().put("items", new JsonArray().add(new JsonObject()
        .put("labels", new JsonObject().put("k", "v\u0000"))));
    JsonObject key = new JsonObject().put("labels", new JsonObject().put("k\u0000", "v"));
    return List.of(top.encode(), nested.encode(), key.encode());
  }

  private static JsonObject resolve(JsonObject schema) {
    String ref = schema == null ? null : schema.getString("$ref");
    if (ref == null) return schema == null ? new JsonObject() : schema;
    JsonObject node = document;
    for (String part : ref.substring(2).split("/")) node = node.getJsonObject(part);
    return resolve(node);
  }

  @Test
  void nulInAnyStringOfAnyGrpcRequestIsInvalidArgument() {
    Vertx vertx = Vertx.vertx();
    try {
      int checked = 0;
      for (Descriptors.ServiceDescriptor service : List.of(TenantServiceGrpcService.SERVICE_DESCRIPTOR,
          ResourcePoolServiceGrpcService.SERVICE_DESCRIPTOR, WorkerServiceGrpcService.SERVICE_DESCRIPTOR,
          JobServiceGrpcService.SERVICE_DESCRIPTOR, ObservabilityServiceGrpcService.SERVICE_DESCRIPTOR,
          CostOptimizationServiceGrpcService.SERVICE_DESCRIPTOR)) {
        for (Descriptors.MethodDescriptor method : service.getMethods()) {
          DynamicMessage.Builder request = DynamicMessage.newBuilder(method.getInputType());
          if (!withNul(request, 0)) continue;
          for (String token : new String[] {TestServer.ADMIN_TOKEN, tenantAdmin}) {
            GrpcTestClient client = GrpcTestClient.create(vertx).bearer(token);
            GrpcClientRequest<Buffer, Buffer> call = client.request(
                SocketAddress.inetSocketAddress(server.port(), "127.0.0.1")).await();
            call.fullMethodName(service.getFullName() + "/" + method.getName());
            GrpcStatus status = GrpcTestClient.statusOf(call.send(Buffer.buffer(request.build().toByteArray()))
                .compose(response -> response.end().map(response)));
            assertThat(status).as(method.getFullName()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
            checked++;
          }
        }
      }
      assertThat(checked).isGreaterThan(30);
    } finally {
      vertx.close().await();
    }
  }

  /** Sets every string field (and the strings of nested messages and maps) to one holding a NUL; true if any. */
  private static boolean withNul(Message.Builder builder, int depth) {
    boolean any = false;
    for (Descriptors.FieldDescriptor field : builder.getDescriptorForType().getFields()) {
      if (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.STRING) {
        if (field.isRepeated()) builder.addRepeatedField(field, "a\u0000b");
        else builder.setField(field, "a\u0000b");
        any = true;
      } else if (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && depth < 3) {
        Message.Builder nested = builder.newBuilderForField(field);
        if (withNul(nested, depth + 1)) {
          if (field.isRepeated()) builder.addRepeatedField(field, nested.build());
          else builder.setField(field, nested.build());
          any = true;
        }
      }
    }
    return any;
  }

  @Test
  void harmlessRequestsNeverAnswer5xx() {
    for (String[] op : operations) {
      String target = fill(op[1], "x");
      String body = op[0].equals("GET") || op[0].equals("DELETE") ? null : "{}";
      for (String token : new String[] {TestServer.ADMIN_TOKEN, tenantAdmin}) {
        RawHttp.Reply r = RawHttp.send(server.port(), op[0], target, auth(token), body);
        assertThat(r.status()).as(op[0] + " " + target + " -> " + r).isLessThan(500);
      }
    }
  }
}
