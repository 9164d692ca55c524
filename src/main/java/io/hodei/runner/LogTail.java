package io.hodei.runner;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The newest bytes of a job's output in a fixed ring, so a chatty job costs bounded memory. Appended to by the
 * thread draining the pipe and rendered once by the completion, hence synchronized.
 *
 * <p>The rendered text never exceeds the capacity in UTF-8 bytes, marker included: room for the marker is reserved
 * when output was dropped, invalid UTF-8 becomes one {@code ?} per bad sequence (never longer than the input), and
 * NUL becomes {@code ?} because logs are stored as PostgreSQL text, which cannot hold it.
 */
public final class LogTail {
  /** Longer than any marker: "[... " + 19 digits + " bytes dropped ...]\n" is 43 bytes. */
  public static final int MARKER_RESERVE = 64;

  private final byte[] ring;
  private long total;

  public LogTail(int capacity) {
    if (capacity <= MARKER_RESERVE) throw new IllegalArgumentException("log capacity must exceed " + MARKER_RESERVE);
    this.ring = new byte[capacity];
  }

  public static String marker(long droppedBytes) {
    return "[... " + droppedBytes + " bytes dropped ...]\n";
  }

  public synchronized void append(byte[] bytes, int offset, int length) {
    if (length >= ring.length) {
      offset += length - ring.length;
      total += length - ring.length;
      length = ring.length;
    }
    int at = (int) (total % ring.length);
    int first = Math.min(length, ring.length - at);
    System.arraycopy(bytes, offset, ring, at, first);
    System.arraycopy(bytes, offset + first, ring, 0, length - first);
    total += length;
  }

  public void append(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    append(bytes, 0, bytes.length);
  }

  public synchronized long totalBytes() { return total; }

  public synchronized String render() {
    int keep = (int) Math.min(total, total > ring.length ? ring.length - MARKER_RESERVE : ring.length);
    byte[] tail = new byte[keep];
    long start = total - keep;
    for (int i = 0; i < keep; i++) tail[i] = ring[(int) ((start + i) % ring.length)];
    int skip = 0;
    if (start > 0) {
      // Cut output may start inside a multi-byte character: drop its continuation bytes rather than mangle it.
      while (skip < keep && skip < 3 && (tail[skip] & 0xC0) == 0x80) skip++;
    }
    String text = decode(ByteBuffer.wrap(tail, skip, keep - skip)).replace('\0', '?');
    return start + skip > 0 ? marker(start + skip) + text : text;
  }

  private static String decode(ByteBuffer bytes) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE)
        .replaceWith("?");
    try {
      CharBuffer chars = decoder.decode(bytes);
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("a replacing decoder does not throw", e);
    }
  }
}
