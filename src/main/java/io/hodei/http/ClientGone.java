package io.hodei.http;

import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;

/** Recognises the failures of a connection the client closed or reset: routine, logged at DEBUG, never answered. */
final class ClientGone {
  private ClientGone() {}

  static boolean is(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof HttpClosedException || t instanceof ClosedChannelException
          || t instanceof io.netty.handler.codec.PrematureChannelClosureException) {
        return true;
      }
      String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (t instanceof IOException && (message.contains("connection reset") || message.contains("broken pipe"))) {
        return true;
      }
      if (message.equals("connection was closed") || message.contains("stream was closed")) return true;
    }
    return false;
  }
}
