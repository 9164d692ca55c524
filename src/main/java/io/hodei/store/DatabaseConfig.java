package io.hodei.store;

import java.nio.file.Path;

/**
 * Where the data lives. With no {@code url} an embedded PostgreSQL runs in {@code dataDir} (kept across restarts)
 * or, when {@code ephemeral}, in a throw-away directory; {@code embeddedDurable} makes it flush every commit to disk
 * before acknowledging it (the embedded server's library turns that off by default).
 */
public record DatabaseConfig(String url, Path dataDir, boolean ephemeral, int poolSize, int embeddedPort,
                             boolean embeddedDurable) {}
