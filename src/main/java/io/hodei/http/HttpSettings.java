package io.hodei.http;

/** What the HTTP verticle needs from configuration. */
public record HttpSettings(String host, int port, int bodyLimitBytes, int shutdownTimeoutSeconds,
                           boolean metricsRequireToken, int tokenCacheSeconds, boolean prometheusEnabled,
                           int prometheusPort, String prometheusPath) {}
