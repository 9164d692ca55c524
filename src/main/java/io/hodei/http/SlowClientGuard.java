package io.hodei.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections of clients too slow to send a request. Vert.x has no header or body read timeout, so:
 * <ul>
 *   <li>until a connection's first request head has arrived, the listener's read idle timeout
 *   ({@code server.header_timeout_seconds}, see {@link #options}) closes a connection that stops sending (Vert.x
 *   creates the HTTP connection object, and calls the connection handler, only once that head is decoded);</li>
 *   <li>from then on (see {@link #watch}) the read idle timeout is dropped, leaving the idle timeout
 *   ({@code server.idle_timeout_seconds}: nothing sent or received), and on HTTP/1.x two handlers in the Netty
 *   pipeline time each request: its body must arrive within {@code server.body_timeout_seconds} of its head, and the
 *   next request's line and headers within {@code server.header_timeout_seconds} of their first byte, however slowly
 *   they trickle in.</li>
 * </ul>
 * The timers run on the connection's event loop and go with the connection. HTTP/2 connections (gRPC, whose streams
 * may be long and quiet) keep only the idle timeout; a connection upgraded to a WebSocket (the SockJS bridge) or to
 * h2c stops being timed per request when its HTTP/1.x decoder is removed. What is not covered: the first request's
 * head trickled in a byte at a time faster than the header timeout (it is bounded by the 16 KiB header limit only).
 */
final class SlowClientGuard {
  private static final Logger LOG = LoggerFactory.getLogger(SlowClientGuard.class);
  /** Vert.x's name of the HTTP/1.x request decoder in a server pipeline. */
  private static final String DECODER = "httpDecoder";
  private static final String BYTES = "hodei-slow-client-bytes";
  private static final String REQUESTS = "hodei-slow-client-requests";

  /** Vert.x's name of the idle timeout handler in a server pipeline. */
  private static final String IDLE = "idle";

  private final int idleSeconds;
  private final int headerSeconds;
  private final long headerMillis;
  private final long bodyMillis;

  SlowClientGuard(int idleTimeoutSeconds, int headerTimeoutSeconds, int bodyTimeoutSeconds) {
    this.idleSeconds = idleTimeoutSeconds;
    this.headerSeconds = headerTimeoutSeconds;
    this.headerMillis = headerTimeoutSeconds * 1000L;
    this.bodyMillis = bodyTimeoutSeconds * 1000L;
  }

  /** Options for a listener: the idle timeout, and the header timeout as read idle timeout until {@link #watch}. */
  HttpServerOptions options() {
    return new HttpServerOptions().setIdleTimeout(idleSeconds).setReadIdleTimeout(headerSeconds)
        .setIdleTimeoutUnit(TimeUnit.SECONDS);
  }

  /** Called from the server's connection handler, once the connection's first request head (or preface) arrived. */
  void watch(HttpConnection connection) {
    if (!(connection instanceof io.vertx.core.net.impl.ConnectionBase base)) return;
    ChannelPipeline pipeline = base.channel().pipeline();
    if (pipeline.get(IDLE) instanceof IdleStateHandler) {
      // a request has begun: from now on a client may be silent while it waits for a response, up to the idle timeout
      if (idleSeconds > 0) {
        pipeline.replace(IDLE, IDLE, new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS));
      } else {
        pipeline.remove(IDLE);
      }
    }
    if (pipeline.get(DECODER) == null || pipeline.get(BYTES) != null) return;
    Watch watch = new Watch();
    pipeline.addBefore(DECODER, BYTES, watch.bytes);
    pipeline.addAfter(DECODER, REQUESTS, watch.requests);
    // The first request's head has just been decoded (it created the connection): its body is due.
    watch.inRequest = true;
    watch.arm(pipeline.context(BYTES), bodyMillis, "body");
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
