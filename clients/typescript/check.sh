#!/usr/bin/env bash
# The API contract from outside: lints the OpenAPI document (Redocly CLI, recommended rules), generates a TypeScript
# client from it (openapi-typescript + openapi-fetch), type-checks a small program against it, and runs that program
# against the built server (target/hodei-pools.jar on a throw-away embedded PostgreSQL). Run by .ci/run after
# `mvn -B verify`; needs node and npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
npm run -s lint
npm run -s generate
npm run -s build

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat > "$work/hodei.yaml" <<YAML
server:
  port: $port
  grpc_port: -1
metrics:
  prometheus:
    port: -1
bridge:
  tcp_port: -1
database:
  ephemeral: true
resource_pools:
  pools: []
YAML
HODEI_CONFIG="$work/hodei.yaml" HODEI_ADMIN_TOKEN="$token" java -jar ../../target/hodei-pools.jar \
  > "$work/server.log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap stop EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 1
done
node dist/smoke.js "http://127.0.0.1:$port" "$token" || { tail -50 "$work/server.log"; exit 1; }
