package io.hodei.tenant;

import io.hodei.common.Audit;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.JsonInput;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;

/**
 * Agent tokens: an admin issues one for a pool of provider {@code agent}; the secret is shown once and stored hashed
 * beside the API tokens. An agent token authenticates only the agent stream, for that one pool.
 */
final class AgentTokens {
  /** Providers whose workers are agents: {@code agent}, and {@code kubernetes} (agent pods). */
  static final java.util.Set<String> AGENT_PROVIDERS = java.util.Set.of("agent", "kubernetes");

  private final Vertx vertx;
  private final TokenStore tokens;

  AgentTokens(Vertx vertx, TokenStore tokens) {
    this.vertx = vertx;
    this.tokens = tokens;
  }

  Future<JsonObject> issue(BusRequest req) {
    req.caller().requireAdmin();
    String poolId = req.param("id");
    JsonInput in = JsonInput.of(req.payload(), "name");
    String name = in.string("name", false, 128);
    in.validate();
    String secret = Tokens.generate();
    return agentPool(req, poolId)
        .compose(p -> tokens.insertAgent(io.hodei.common.Ids.generate("atok-"), Tokens.hash(secret),
            name == null ? "agent" : name, poolId, req.caller().tokenId()))
        .map(token -> {
          Audit.record(req, "agent_token.issue", "pool/" + poolId + "/agent-tokens/" + token.getString("id"), null,
              token);
          return token.copy().put("token", secret);
        });
  }

  Future<JsonObject> list(BusRequest req) {
    req.caller().requireAdmin();
    String poolId = req.param("id");
    return agentPool(req, poolId).compose(p -> tokens.listAgent(poolId))
        .map(items -> new JsonObject().put("items", new JsonArray(new ArrayList<>(items))).putNull("next_cursor"));
  }

  Future<JsonObject> revoke(BusRequest req) {
    req.caller().requireAdmin();
    String poolId = req.param("id");
    String tokenId = req.param("token_id");
    return tokens.revokeAgent(poolId, tokenId).map(token -> {
      Audit.record(req, "agent_token.revoke", "pool/" + poolId + "/agent-tokens/" + tokenId, null, token);
      return token;
    });
  }

  /** Only the agent stream asks (system caller); an unknown, revoked or non-agent token is a 401. */
  Future<JsonObject> authenticate(BusRequest req) {
    req.caller().requireAdmin();
    String hash = req.payload().getString("token_hash");
    if (hash == null) throw DomainException.unauthorized("no token");
    return tokens.authenticateAgent(hash).map(found -> found
        .orElseThrow(() -> DomainException.unauthorized("the agent token is not valid or was revoked")));
  }

  /** The pool, when it exists and is made of agents (404 / 422 otherwise). */
  private Future<JsonObject> agentPool(BusRequest req, String poolId) {
    return Bus.request(vertx, PoolAddresses.GET, BusRequest.envelope(new JsonObject().put("id", poolId),
        new JsonObject(), new JsonObject(), null), Caller.system(), req.traceId()).compose(pool -> {
          if (!AGENT_PROVIDERS.contains(pool.getString("provider"))) {
            return Future.failedFuture(DomainException.unprocessable("pool '" + poolId + "' has provider '"
                + pool.getString("provider") + "'; agent tokens are for pools with provider 'agent' or 'kubernetes'"));
          }
          return Future.succeededFuture(pool);
        });
  }
}
