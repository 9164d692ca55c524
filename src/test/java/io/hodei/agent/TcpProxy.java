package io.hodei.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder between agents and the server, so a test can cut the network (close every connection) or
 * black-hole it (forward nothing, close nothing) while both ends keep running. It keeps listening after a cut: the agents' reconnects go through again.
 */
final class TcpProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int target;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  /** Sockets whose bytes are swallowed: the connection stays open, nothing crosses it. */
  private final java.util.Set<Socket> blackHoled = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  TcpProxy(int target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() { return listener.getLocalPort(); }

  /** Connections accepted and not yet cut. */
  int connections() { return open.size() / 2; }

  /** Closes every connection now (both sides see a reset or an end of stream). */
  void cut() {
    for (Socket s : open) {
      try {
        s.setSoLinger(true, 0);
        s.close();
      } catch (IOException ignored) {
        // already gone
      }
    }
    open.clear();
  }

  /**
   * Stops forwarding on every open connection without closing it (a dropped network or a dead NAT entry: neither
   * side learns anything from TCP). New connections are forwarded again.
   */
  void blackHole() { blackHoled.addAll(open); }

  private void accept() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        open.add(client);
        open.add(server);
        pump(client, server);
        pump(server, client);
      } catch (IOException e) {
        if (closed) return;
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (blackHoled.contains(from)) continue;
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // cut or closed
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException ignored) {
          // nothing left to do
        }
        open.remove(from);
        open.remove(to);
      }
    }, "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    cut();
    listener.close();
  }
}
