package io.hodei.support;

import io.vertx.core.json.JsonObject;

import static org.assertj.core.api.Assertions.assertThat;

/** Checks that a response is an RFC 9457 problem with the trace id and no internals. */
public final class ProblemAssert {
  private ProblemAssert() {}

  public static JsonObject assertProblem(Response r, int status) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.contentType()).isEqualTo("application/problem+json");
    JsonObject problem = r.json();
    assertThat(problem.getInteger("status")).isEqualTo(status);
    assertThat(problem.getString("title")).isNotBlank();
    assertThat(problem.getString("detail")).isNotBlank();
    assertThat(problem.getString("trace_id")).isEqualTo(r.header("X-Trace-Id"));
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    return problem;
  }
}
