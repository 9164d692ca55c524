package io.hodei.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes HTTP/1.x connections of clients too slow to send a request: the request line and headers must arrive within
 * {@code server.header_timeout_seconds} of their first byte (or of the connection, for its first request), and a
 * request body within {@code server.body_timeout_seconds} of the headers. A connection that sends nothing at all is
 * left to {@code server.idle_timeout_seconds} (Vert.x's idle timeout), as is everything after a response.
 *
 * <p>Vert.x has no header or body read timeout, so this watches the connection's Netty pipeline: one handler before
 * the HTTP decoder sees bytes arrive (a request begins), one after it sees the decoded request head and its last
 * content. The timers run on the connection's event loop and go with the connection. HTTP/2 connections (gRPC, whose
 * streams may be long and quiet) are not watched; a connection upgraded to a WebSocket (the SockJS bridge) or to
 * h2c stops being watched when its HTTP/1.x decoder is removed.
 */
final class SlowClientGuard {
  private static final Logger LOG = LoggerFactory.getLogger(SlowClientGuard.class);
  /** Vert.x's name of the HTTP/1.x request decoder in a server pipeline. */
  private static final String DECODER = "httpDecoder";
  private static final String BYTES = "hodei-slow-client-bytes";
  private static final String REQUESTS = "hodei-slow-client-requests";

  private final long headerMillis;
  private final long bodyMillis;

  SlowClientGuard(int headerTimeoutSeconds, int bodyTimeoutSeconds) {
    this.headerMillis = headerTimeoutSeconds * 1000L;
    this.bodyMillis = bodyTimeoutSeconds * 1000L;
  }

  /** Watches {@code connection} when it is HTTP/1.x (called from the server's connection handler). */
  void watch(HttpConnection connection) {
    if (!(connection instanceof io.vertx.core.net.impl.ConnectionBase base)) return;
    ChannelPipeline pipeline = base.channel().pipeline();
    if (pipeline.get(DECODER) == null || pipeline.get(BYTES) != null) return;
    Watch watch = new Watch();
    pipeline.addBefore(DECODER, BYTES, watch.bytes);
    pipeline.addAfter(DECODER, REQUESTS, watch.requests);
    // The connection exists because its first bytes arrived (or it was just accepted): its first request is due.
    watch.arm(pipeline.context(BYTES), headerMillis, "headers");
  }

  /** The state of one connection; touched only on its event loop. */
  private final class Watch {
    private ScheduledFuture<?> timer;
    /** Between a request's head and its last content. */
    private boolean inRequest;

    final ChannelDuplexHandler bytes = new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!inRequest && timer == null) {
          if (ctx.pipeline().get(DECODER) == null) {
            unwatch(ctx.pipeline());
          } else {
            arm(ctx, headerMillis, "headers");
          }
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        ctx.fireChannelInactive();
      }
    };

    final ChannelInboundHandlerAdapter requests = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest) {
          cancel();
          inRequest = true;
          if (!(msg instanceof LastHttpContent)) arm(ctx, bodyMillis, "body");
        }
        if (msg instanceof LastHttpContent && inRequest) {
          cancel();
          inRequest = false;
        }
        ctx.fireChannelRead(msg);
      }
    };

    void arm(ChannelHandlerContext ctx, long millis, String part) {
      cancel();
      timer = ctx.executor().schedule(() -> {
        timer = null;
        LOG.debug("closing a connection whose request {} did not arrive in time", part,
            net.logstash.logback.argument.StructuredArguments.kv("remote_address", ctx.channel().remoteAddress()),
            net.logstash.logback.argument.StructuredArguments.kv("timeout_ms", millis));
        ctx.channel().close();
      }, millis, TimeUnit.MILLISECONDS);
    }

    void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }

    void unwatch(ChannelPipeline pipeline) {
      cancel();
      if (pipeline.get(BYTES) != null) pipeline.remove(BYTES);
      if (pipeline.get(REQUESTS) != null) pipeline.remove(REQUESTS);
    }
  }
}
