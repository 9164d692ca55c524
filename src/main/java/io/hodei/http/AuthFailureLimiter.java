package io.hodei.http;

import io.hodei.common.DomainException;
import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Limits failed token authentications per client address: within a fixed window (starting at an address's first
 * failure), the first {@code limit} failures are answered 401 and every further one 429 with {@code Retry-After} (the
 * seconds left in the window). Only failures count: a valid token is accepted even from a limited address, so a
 * legitimate client behind the same NAT as a guesser is not locked out. Each outcome is counted in
 * {@code hodei_auth_failures_total{outcome=rejected|limited}}; an address that reaches the limit is logged once per
 * window (WARN, with the address and the failures so far). At most {@value #MAX_ADDRESSES} addresses are tracked (the
 * one tracked longest is dropped first). Used on one event loop only (its verticle's).
 */
public final class AuthFailureLimiter {
  static final int MAX_ADDRESSES = 10_000;
  static final String REJECTED = "rejected";
  static final String LIMITED = "limited";
  private static final Logger LOG = LoggerFactory.getLogger(AuthFailureLimiter.class);

  private static final class Window {
    final long startNanos;
    int failures;
    boolean logged;

    Window(long startNanos) { this.startNanos = startNanos; }
  }

  private final int limit;
  private final long windowNanos;
  private final LongSupplier clock;
  private final Counter rejected;
  private final Counter limited;
  private final Map<String, Window> windows = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) { return size() > MAX_ADDRESSES; }
  };

  /** {@code limit} 0 turns limiting off (failures are still counted as rejected). */
  public AuthFailureLimiter(int limit, int windowSeconds, MeterRegistry registry) {
    this(limit, windowSeconds, registry, System::nanoTime);
  }

  AuthFailureLimiter(int limit, int windowSeconds, MeterRegistry registry, LongSupplier clock) {
    this.limit = limit;
    this.windowNanos = windowSeconds * 1_000_000_000L;
    this.clock = clock;
    this.rejected = counter(registry, REJECTED);
    this.limited = counter(registry, LIMITED);
  }

  private static Counter counter(MeterRegistry registry, String outcome) {
    return MetricCatalog.AUTH_FAILURES.counter()
        .tag(MetricCatalog.OUTCOME, outcome).register(registry);
  }

  /**
   * Records a failed authentication from {@code address} (null: unknown, never limited) and returns what to answer:
   * {@code failure} itself (401) while the address is within its limit, else a 429.
   */
  public DomainException failed(String address, DomainException failure) {
    if (limit <= 0 || address == null) {
      rejected.increment();
      return failure;
    }
    long now = clock.getAsLong();
    Window window = windows.get(address);
    if (window == null || now - window.startNanos >= windowNanos) {
      // a new window goes to the end of the eviction order
      windows.remove(address);
      window = new Window(now);
      windows.put(address, window);
    }
    window.failures++;
    if (window.failures <= limit) {
      rejected.increment();
      return failure;
    }
    return limitedAnswer(address, window, now);
  }

  /**
   * For checks that cost a database lookup and may be skipped (an agent's stream): the 429 to answer at once when
   * {@code address} already used up its failures in the current window, else null (go on and authenticate).
   */
  public DomainException refuseEarly(String address) {
    if (limit <= 0 || address == null) return null;
    long now = clock.getAsLong();
    Window window = windows.get(address);
    if (window == null || now - window.startNanos >= windowNanos || window.failures < limit) return null;
    window.failures++;
    return limitedAnswer(address, window, now);
  }

  private DomainException limitedAnswer(String address, Window window, long now) {
    limited.increment();
    long leftNanos = window.startNanos + windowNanos - now;
    long retryAfter = Math.max(1, (leftNanos + 999_999_999L) / 1_000_000_000L);
    if (!window.logged) {
      window.logged = true;
      LOG.warn("authentication failures limited for {}", address, kv("remote_address", address),
          kv("failures", window.failures), kv("limit", limit), kv("window_seconds", windowNanos / 1_000_000_000L));
    }
    return new DomainException(429, "Too Many Requests", "too many failed authentications from this address; retry in "
        + retryAfter + " s", new JsonObject().put(RETRY_AFTER_SECONDS, retryAfter));
  }

  /** The problem extension carrying the seconds to wait (also sent as the {@code Retry-After} header). */
  public static final String RETRY_AFTER_SECONDS = "retry_after_seconds";

  /** Addresses tracked now (tests check the bound). */
  int tracked() { return windows.size(); }
}
