package io.hodei.tracing;

/**
 * Tracing configuration: {@code observability.tracing.*}. Spans are exported over OTLP/HTTP to {@code otlpEndpoint}
 * when it is set; {@code samplePercent} is the share of new traces recorded (an incoming sampled flag wins);
 * {@code maxOpenJobs} bounds the job lifecycle spans kept open in memory.
 */
public record TracingSettings(boolean enabled, String otlpEndpoint, int samplePercent, int maxOpenJobs) {}
