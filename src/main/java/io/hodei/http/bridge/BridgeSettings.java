package io.hodei.http.bridge;

/**
 * The event-bus bridges' configuration: the TCP bridge listener ({@code tcpPort}, -1 = off, 0 = any free port) on
 * {@code host}, and how many events one connection may have buffered before further ones are dropped.
 */
public record BridgeSettings(String host, int tcpPort, int maxBufferedMessages) {}
