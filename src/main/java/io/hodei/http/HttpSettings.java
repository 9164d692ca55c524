package io.hodei.http;

/**
 * What the HTTP verticle needs from configuration. {@code grpcPort} is the separate gRPC listener (-1 = none; gRPC is
 * always served on {@code port} too); {@code bridge} configures the event-bus bridges.
 */
public record HttpSettings(String host, int port, int bodyLimitBytes, int shutdownTimeoutSeconds,
                           boolean metricsRequireToken, int tokenCacheSeconds, boolean prometheusEnabled,
                           int prometheusPort, String prometheusPath, int grpcPort,
                           io.hodei.http.bridge.BridgeSettings bridge) {}
