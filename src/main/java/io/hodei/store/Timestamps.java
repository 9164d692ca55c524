package io.hodei.store;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Conversions between the API's instants and PostgreSQL's timestamptz, null-safe. */
public final class Timestamps {
  private Timestamps() {}

  /** An instant as a UTC timestamptz parameter. */
  public static OffsetDateTime utc(Instant t) {
    // what t.atOffset(UTC) gives, without the ZoneRules that ZoneOffset.getRules() builds anew on every call
    return t == null ? null : OffsetDateTime.of(
        LocalDateTime.ofEpochSecond(t.getEpochSecond(), t.getNano(), ZoneOffset.UTC), ZoneOffset.UTC);
  }

  /** A timestamptz column as the API's ISO-8601 instant text. */
  public static String iso(OffsetDateTime t) { return t == null ? null : t.toInstant().toString(); }
}
