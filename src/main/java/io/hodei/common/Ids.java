package io.hodei.common;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Identifiers: the rule each kind of client-chosen id must follow, and how the server makes ids of its own.
 * A rule named per kind lets one kind change without silently changing another.
 */
public final class Ids {
  /** The longest client-chosen id of any kind. */
  public static final int MAX_LENGTH = 63;
  /** Tenant ids: lower-case letters, digits and dashes, at most 63, starting with a letter or digit. */
  public static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  /** Pool ids: the same shape as tenant ids (they appear in URLs and metric labels alike). */
  public static final Pattern POOL = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  /** A server-made id: {@code prefix} and 72 random bits in hex (tokens, generated tenants, pools, workers, ...). */
  public static String generate(String prefix) {
    byte[] bytes = new byte[9];
    RANDOM.nextBytes(bytes);
    return prefix + HexFormat.of().formatHex(bytes);
  }
}
