package io.hodei.cost;

/** Event-bus addresses of the cost domain (part of the event-bus contract; see docs/architecture.md). */
public final class CostAddresses {
  /** A cost report computed now: query {@code from, to, group_by, tenant_id?, pool_id?}. */
  public static final String REPORT = "hodei.cost.report";
  /** Starts a stored report generated in the background: body {@code from, to, group_by, ...} -> {@code id, status}. */
  public static final String REPORT_CREATE = "hodei.cost.report.create";
  /** A stored report's status and, once done, its result: params {@code id}. */
  public static final String REPORT_GET = "hodei.cost.report.get";
  /** Cost per tenant and per pool with utilisation efficiency and wastage: query {@code from?, to?}. */
  public static final String BREAKDOWN = "hodei.cost.breakdown";
  /** Rightsizing recommendations: query {@code window_hours?}. */
  public static final String RECOMMENDATIONS = "hodei.cost.recommendations";
  /** Sets a pool price version (admin): body {@code pool_id, price_per_worker_hour, effective_from?}. */
  public static final String PRICE_SET = "hodei.cost.price.set";
  /** A pool's price history: query {@code pool_id}. */
  public static final String PRICE_LIST = "hodei.cost.price.list";

  /**
   * Runs a full catch-up sweep of the ledger now (admin) and answers when it is done: for rows written behind the
   * sweep's back, such as imported history.
   */
  public static final String SWEEP = "hodei.cost.sweep";

  private CostAddresses() {}
}
