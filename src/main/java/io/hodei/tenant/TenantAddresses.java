package io.hodei.tenant;

/** Event-bus addresses of the tenant domain (part of the event-bus contract; see docs/architecture.md). */
public final class TenantAddresses {
  public static final String CREATE = "hodei.tenant.create";
  public static final String LIST = "hodei.tenant.list";
  public static final String GET = "hodei.tenant.get";
  public static final String UPDATE = "hodei.tenant.update";
  public static final String DELETE = "hodei.tenant.delete";
  public static final String QUOTA_GET = "hodei.tenant.quota.get";
  public static final String QUOTA_SET = "hodei.tenant.quota.set";
  public static final String TOKEN_ISSUE = "hodei.tenant.token.issue";
  public static final String TOKEN_LIST = "hodei.tenant.token.list";
  public static final String TOKEN_REVOKE = "hodei.tenant.token.revoke";
  public static final String BURST_GRANT = "hodei.tenant.burst.grant";
  public static final String BURST_GET = "hodei.tenant.burst.get";
  public static final String BURST_REVOKE = "hodei.tenant.burst.revoke";
  /** Meters burst usage on a grant (system caller): {@code {grant_id, cpu_m_seconds,
   * memory_mb_seconds, burst_jobs}}: usage above the base quota, and burst jobs that ended. */
  public static final String BURST_CONSUME = "hodei.tenant.burst.consume";
  /** Resolves a bearer token to a caller: {@code {"token": "..."}} -> {@code Caller} JSON. */
  public static final String AUTHENTICATE = "hodei.tenant.authenticate";

  /** Agent tokens of a pool (admin): param {@code id} (pool), body {@code {name?}} -> token JSON with the secret. */
  public static final String AGENT_TOKEN_ISSUE = "hodei.tenant.agent_token.issue";
  public static final String AGENT_TOKEN_LIST = "hodei.tenant.agent_token.list";
  public static final String AGENT_TOKEN_REVOKE = "hodei.tenant.agent_token.revoke";
  /** Resolves an agent token (system caller): {@code {"token_hash"}} -> {@code {token_id, pool_id}}; 401 if none. */
  public static final String AUTHENTICATE_AGENT = "hodei.tenant.authenticate_agent";

  private TenantAddresses() {}
}
