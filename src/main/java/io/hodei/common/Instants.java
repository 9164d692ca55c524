package io.hodei.common;

import java.time.Instant;

/**
 * ISO-8601 instant text as {@link Instant#toString()} writes it and {@link Instant#parse} reads it, without the
 * general-purpose formatter: every job writes and reads a handful of timestamps (event times, start and end times),
 * and {@code DateTimeFormatter} was a measurable part of what a job costs the server. The output is exactly
 * {@code Instant.toString()}'s; anything outside the common shape (years before 1970 or after 9999, offsets,
 * leap seconds, malformed text) is left to the JDK.
 */
public final class Instants {
  /** 9999-12-31T23:59:59Z: beyond it years take more than four digits. */
  private static final long MAX_FAST_SECOND = 253_402_300_799L;
  private static final int[] POWERS = {100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1};

  private Instants() {}

  /** {@code t.toString()}, or null for null. */
  public static String format(Instant t) {
    if (t == null) return null;
    long seconds = t.getEpochSecond();
    if (seconds < 0 || seconds > MAX_FAST_SECOND) return t.toString();
    int nanos = t.getNano();
    int digits = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1_000 == 0 ? 6 : 9;
    char[] out = new char[20 + (digits == 0 ? 0 : digits + 1)];
    long days = seconds / 86_400;
    int secondOfDay = (int) (seconds % 86_400);
    // civil date of a day count (H. Hinnant's days_from_civil inverted), for days >= 0
    long z = days + 719_468;
    long era = z / 146_097;
    long dayOfEra = z - era * 146_097;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long mp = (5 * dayOfYear + 2) / 153;
    int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    int year = (int) (yearOfEra + era * 400 + (month <= 2 ? 1 : 0));
    put4(out, 0, year);
    out[4] = '-';
    put2(out, 5, month);
    out[7] = '-';
    put2(out, 8, day);
    out[10] = 'T';
    put2(out, 11, secondOfDay / 3600);
    out[13] = ':';
    put2(out, 14, secondOfDay / 60 % 60);
    out[16] = ':';
    put2(out, 17, secondOfDay % 60);
    int at = 19;
    if (digits > 0) {
      out[at++] = '.';
      for (int i = 0; i < digits; i++) out[at++] = (char) ('0' + nanos / POWERS[i] % 10);
    }
    out[at] = 'Z';
    return new String(out);
  }

  /** {@code Instant.parse(text)}, or null for null. */
  public static Instant parse(CharSequence text) {
    if (text == null) return null;
    Instant fast = parseCommon(text);
    return fast != null ? fast : Instant.parse(text);
  }

  /** The instant of {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z} with fields in range, else null. */
  private static Instant parseCommon(CharSequence s) {
    int n = s.length();
    if (n < 20 || s.charAt(n - 1) != 'Z' || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T'
        || s.charAt(13) != ':' || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if ((hour | minute | second) < 0 || year < 1970 || month < 1 || month > 12 || day < 1 || day > lengthOfMonth(year, month) || hour > 23
        || minute > 59 || second > 59) {
      return null;
    }
    int nanos = 0;
    if (n > 20) {
      int fraction = n - 21;
      if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) return null;
      int value = digits(s, 20, fraction);
      if (value < 0) return null;
      nanos = value * POWERS[fraction - 1];
    }
    // H. Hinnant's days_from_civil
    long y = month <= 2 ? year - 1 : year;
    long era = y / 400;
    long yearOfEra = y - era * 400;
    long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    long days = era * 146_097 + dayOfEra - 719_468;
    return Instant.ofEpochSecond(days * 86_400 + hour * 3600L + minute * 60L + second, nanos);
  }

  /** The decimal value of {@code count} digits at {@code from}, or -1 when one is not a digit. */
  private static int digits(CharSequence s, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static int lengthOfMonth(int year, int month) {
    return switch (month) {
      case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }

  private static void put2(char[] out, int at, int value) {
    out[at] = (char) ('0' + value / 10);
    out[at + 1] = (char) ('0' + value % 10);
  }

  private static void put4(char[] out, int at, int value) {
    out[at] = (char) ('0' + value / 1000);
    out[at + 1] = (char) ('0' + value / 100 % 10);
    out[at + 2] = (char) ('0' + value / 10 % 10);
    out[at + 3] = (char) ('0' + value % 10);
  }
}
