package io.hodei.http;

/**
 * What the HTTP verticle needs from configuration. {@code grpcPort} is the separate gRPC listener (-1 = none; gRPC is
 * always served on {@code port} too); {@code bridge} configures the event-bus bridges; {@code edge} the defences
 * against slow and guessing clients; {@code grpcTls} the certificate of the separate gRPC listener (null: plain h2c).
 */
public record HttpSettings(String host, int port, int bodyLimitBytes, int shutdownTimeoutSeconds,
                           boolean metricsRequireToken, int tokenCacheSeconds, boolean prometheusEnabled,
                           int prometheusPort, String prometheusPath, int grpcPort,
                           io.hodei.http.bridge.BridgeSettings bridge, Edge edge, GrpcTls grpcTls) {
  /**
   * Connection timeouts in seconds (idle 0 = none) and the failed-authentication limit per client address
   * ({@code authFailureLimit} failures per {@code authFailureWindowSeconds}; 0 = no limit).
   */
  public record Edge(int idleTimeoutSeconds, int headerTimeoutSeconds, int bodyTimeoutSeconds, int authFailureLimit,
                     int authFailureWindowSeconds) {}

  /** PEM files of the separate gRPC listener's TLS certificate and key. */
  public record GrpcTls(String certFile, String keyFile) {}
}
