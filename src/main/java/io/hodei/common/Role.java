package io.hodei.common;

import java.util.Arrays;
import java.util.Optional;

/** API token roles, from most to least powerful. Wire names are lower-case with dashes. */
public enum Role {
  ADMIN("admin"), TENANT_ADMIN("tenant-admin"), SUBMITTER("submitter"), VIEWER("viewer");

  private final String wire;

  Role(String wire) { this.wire = wire; }

  public String wire() { return wire; }

  /** True when this role can do everything {@code other} can. */
  public boolean atLeast(Role other) { return ordinal() <= other.ordinal(); }

  public static Optional<Role> parse(String wire) {
    return Arrays.stream(values()).filter(r -> r.wire.equals(wire)).findFirst();
  }
}
