package io.hodei.store;

import java.nio.file.Path;

/**
 * Where the data lives. With no {@code url} an embedded PostgreSQL runs in {@code dataDir} (kept across restarts)
 * or, when {@code ephemeral}, in a throw-away directory.
 */
public record DatabaseConfig(String url, Path dataDir, boolean ephemeral, int poolSize, int embeddedPort) {}
