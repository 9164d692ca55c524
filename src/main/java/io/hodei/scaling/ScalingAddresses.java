package io.hodei.scaling;

/**
 * Event-bus addresses of the scaling domain (part of the event-bus contract; see docs/architecture.md). Every request is the REST
 * envelope with path parameter {@code id} (the pool) and, for one policy or trigger, {@code item_id}. Reads need a
 * viewer, changes an admin.
 */
public final class ScalingAddresses {
  public static final String POLICY_LIST = "hodei.scaling.policy.list";
  public static final String POLICY_CREATE = "hodei.scaling.policy.create";
  public static final String POLICY_GET = "hodei.scaling.policy.get";
  public static final String POLICY_UPDATE = "hodei.scaling.policy.update";
  public static final String POLICY_DELETE = "hodei.scaling.policy.delete";
  public static final String TRIGGER_LIST = "hodei.scaling.trigger.list";
  public static final String TRIGGER_CREATE = "hodei.scaling.trigger.create";
  public static final String TRIGGER_GET = "hodei.scaling.trigger.get";
  public static final String TRIGGER_UPDATE = "hodei.scaling.trigger.update";
  public static final String TRIGGER_DELETE = "hodei.scaling.trigger.delete";
  public static final String COOLDOWN_GET = "hodei.scaling.cooldown.get";
  public static final String COOLDOWN_SET = "hodei.scaling.cooldown.set";
  /** The decision ledger of a pool: query {@code from}, {@code to} (ISO instants), {@code limit}, {@code cursor}. */
  public static final String HISTORY = "hodei.scaling.history";

  private ScalingAddresses() {}
}
