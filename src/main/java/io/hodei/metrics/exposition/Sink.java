package io.hodei.metrics.exposition;

import java.io.OutputStream;
import java.util.Arrays;

import static io.hodei.metrics.exposition.TextFormat.ascii;
import static io.hodei.metrics.exposition.TextFormat.format;

/**
 * Where a scrape is written: a growable byte array with the per-scrape writes of the text format (a rendered prefix,
 * then a value and a newline; whole numbers and common doubles without building a String). Also an OutputStream, for
 * the fallback to the registry's own writer. One per scrape; not thread-safe.
 */
final class Sink extends OutputStream {
  private static final byte[] MIN_LONG = ascii(Long.toString(Long.MIN_VALUE));
  byte[] bytes;
  int size;
  private final byte[] digits = new byte[20];

  Sink(int capacity) { bytes = new byte[Math.max(capacity, 1024)]; }

  private void ensure(int more) {
    if (size + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
  }

  @Override
  public void write(int b) {
    ensure(1);
    bytes[size++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, bytes, size, len);
    size += len;
  }

  @Override
  public void write(byte[] b) { write(b, 0, b.length); }

  void writeAscii(String s) {
    ensure(s.length());
    for (int i = 0; i < s.length(); i++) bytes[size++] = (byte) s.charAt(i);
  }

  void newline() { write('\n'); }

  /** {@code prefix value\n} for a whole number. */
  void longLine(byte[] prefix, long value) {
    write(prefix);
    writeLong(value);
    newline();
  }

  /** {@code prefix value\n}. */
  void doubleLine(byte[] prefix, double value) {
    write(prefix);
    writeDouble(value);
    newline();
  }

  void writeLong(long v) {
    if (v == Long.MIN_VALUE) {
      write(MIN_LONG);
      return;
    }
    ensure(20);
    if (v < 0) {
      bytes[size++] = '-';
      v = -v;
    }
    int n = 0;
    do {
      digits[n++] = (byte) ('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) bytes[size++] = digits[--n];
  }

  /**
   * {@code Double.toString} without its String for the common case, a whole number below 10^7 (which it writes
   * as {@code 123.0}; from 10^7 on it switches to {@code 1.0E7}). -0.0 and everything else go through it.
   */
  void writeDouble(double d) {
    if (d > -1e7 && d < 1e7) {
      long whole = (long) d;
      if (whole == d && (whole != 0 || Double.doubleToRawLongBits(d) == 0L)) {
        writeLong(whole);
        ensure(2);
        bytes[size++] = '.';
        bytes[size++] = '0';
        return;
      }
    }
    writeAscii(format(d));
  }
}
