package io.hodei.agent;

import java.nio.file.Path;
import java.util.Map;

/**
 * How an agent runs: where it connects, as whom, for which pool, and what it offers.
 *
 * @param host      server host
 * @param port      server gRPC port (the REST port serves gRPC too)
 * @param token     agent token issued for {@code pool}
 * @param pool      the pool it registers into
 * @param slots     jobs it runs at once (each slot is one worker of the pool)
 * @param cpuM      CPU each slot offers, in millicores
 * @param memoryMb  memory each slot offers
 * @param labels    free-form labels reported at registration
 * @param workDir   where it keeps its identity and the jobs' working directories
 * @param tlsCa     PEM CA certificate to verify the server with (null: plain h2c)
 */
public record AgentSettings(String host, int port, String token, String pool, int slots, long cpuM, long memoryMb,
                            Map<String, String> labels, Path workDir, Path tlsCa) {}
