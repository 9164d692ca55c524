package io.hodei.http.grpc;

import io.hodei.grpc.v1.CreateTenantRequest;
import io.hodei.grpc.v1.ListTenantsResponse;
import io.hodei.grpc.v1.QuotaInput;
import io.hodei.grpc.v1.Tenant;
import io.hodei.grpc.v1.UpdateTenantRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Only what a client set reaches the domain; replies fill messages by field name. */
class GrpcProtoJsonTest {
  @Test
  void unsetFieldsAreAbsentAndExplicitValuesArePresent() {
    assertThat(ProtoJson.toJson(CreateTenantRequest.getDefaultInstance())).isEqualTo(new JsonObject());
    JsonObject json = ProtoJson.toJson(CreateTenantRequest.newBuilder().setName("A").setWeight(0)
        .putLabels("k", "v").setQuota(QuotaInput.newBuilder().setCpuM(0)).build());
    assertThat(json).isEqualTo(new JsonObject().put("name", "A").put("weight", 0)
        .put("labels", new JsonObject().put("k", "v")).put("quota", new JsonObject().put("cpu_m", 0L)));
  }

  @Test
  void envelopeMovesRoutingFieldsOutOfTheBody() {
    JsonObject envelope = Envelope.of(UpdateTenantRequest.newBuilder().setId("acme").setName("B")
        .setIfMatchVersion(3).build()).param("id", "id").ifMatch("if_match_version").build();
    assertThat(envelope).isEqualTo(new JsonObject().put("params", new JsonObject().put("id", "acme"))
        .put("query", new JsonObject()).put("body", new JsonObject().put("name", "B")).put("if_match", 3L));
    JsonObject unconditional = Envelope.of(UpdateTenantRequest.newBuilder().setId("acme").build())
        .param("id", "id").ifMatch("if_match_version").build();
    assertThat(unconditional.containsKey("if_match")).isFalse();
  }

  @Test
  void repliesFillNestedRepeatedAndMapFieldsAndIgnoreTheRest() {
    JsonObject tenant = new JsonObject().put("id", "acme").put("weight", 2).put("labels", new JsonObject()
        .put("team", "data")).put("quota", new JsonObject().put("cpu_m", 4000).put("updated_at", "t"))
        .put("trace_id", "ignored").putNull("status");
    ListTenantsResponse page = ProtoJson.fromJson(new JsonObject().put("items", new JsonArray().add(tenant))
        .put("next_page_token", "acme"), ListTenantsResponse.newBuilder());
    Tenant item = page.getItems(0);
    assertThat(item.getId()).isEqualTo("acme");
    assertThat(item.getWeight()).isEqualTo(2);
    assertThat(item.getStatus()).isEmpty();
    assertThat(item.getLabelsMap()).containsEntry("team", "data");
    assertThat(item.getQuota().getCpuM()).isEqualTo(4000);
    assertThat(page.getNextPageToken()).isEqualTo("acme");
  }
}
