#!/usr/bin/env bash
# The agent benchmark: `true` jobs through 4 agents x 4 slots (separate JVMs, over the gRPC stream) against the
# local provider with 16 workers, on the same machine and the same server (the built jar, embedded PostgreSQL).
#   bash bench/agent-bench.sh [--jobs 1000] [--agents 4] [--slots 4]
# Prints the results table and writes bench/results/agent-<date>.json. Needs the jar (mvn -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=1000; AGENTS=4; SLOTS=4
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) JOBS=$2; shift 2;; --agents) AGENTS=$2; shift 2;; --slots) SLOTS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
JAR=target/hodei-pools.jar
[ -f "$JAR" ] || mvn -B -q -DskipTests package
WORK=$(mktemp -d /tmp/hodei-agent-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADMIN=bench-admin-token-0123456789abcdef
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
env -i PATH="$PATH" HOME="$HOME" HODEI_ADMIN_TOKEN=$ADMIN HODEI_PG_EPHEMERAL=true HODEI_PG_DATA_DIR="$WORK/pg" \
  HODEI_SERVER_HOST=127.0.0.1 HODEI_SERVER_PORT=$PORT HODEI_SERVER_GRPC_PORT=-1 HODEI_PROMETHEUS_PORT=-1 \
  HODEI_BRIDGE_TCP_PORT=-1 HODEI_RESOURCE_POOLS_LOCAL_WORK_DIR="$WORK/local" HODEI_LOG_LEVEL=WARN \
  java -Xmx1g -jar "$JAR" > "$WORK/server.log" 2>&1 &
PIDS+=($!)
export PORT ADMIN JOBS AGENTS SLOTS WORK JAR
python3 - <<'PY'
import json, os, subprocess, sys, time, urllib.request, datetime, statistics
port, admin = os.environ["PORT"], os.environ["ADMIN"]
jobs, agents, slots, work, jar = int(os.environ["JOBS"]), int(os.environ["AGENTS"]), int(os.environ["SLOTS"]), os.environ["WORK"], os.environ["JAR"]
base = f"http://127.0.0.1:{port}"
def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
deadline = time.time() + 120
while True:
    try:
        if call("GET", "/health/ready", admin)[0] == 200: break
    except Exception: pass
    if time.time() > deadline: sys.exit("server did not start; see " + work + "/server.log")
    time.sleep(0.5)
workers = agents * slots
call("POST", "/api/v1/tenants", admin, {"id": "bench", "name": "bench", "weight": 1, "quota": {"cpu_m": 10_000_000,
     "memory_mb": 100_000_000, "max_concurrent_jobs": 100_000, "max_queued_jobs": 1_000_000}})
submitter = call("POST", "/api/v1/tenants/bench/tokens", admin, {"role": "submitter"})[1]["token"]
call("POST", "/api/v1/pools", admin, {"id": "local", "name": "local", "kind": "static", "provider": "local", "size": workers})
call("POST", "/api/v1/pools", admin, {"id": "agents", "name": "agents", "kind": "static", "provider": "agent", "size": 0})
agent_token = call("POST", "/api/v1/pools/agents/agent-tokens", admin, {})[1]["token"]
procs = []
import atexit
atexit.register(lambda: [p.terminate() for p in procs])  # also when the run fails half-way
for i in range(agents):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "HODEI_AGENT_TOKEN": agent_token}
    procs.append(subprocess.Popen(["java", "-Xmx256m", "-jar", jar, "agent", "--server", f"127.0.0.1:{port}", "--pool",
        "agents", "--slots", str(slots), "--work-dir", f"{work}/agent-{i}"], env=env,
        stdout=open(f"{work}/agent-{i}.log", "w"), stderr=subprocess.STDOUT))
def idle(pool):
    return call("GET", f"/api/v1/pools/{pool}", admin)[1]["workers"]["idle"]
deadline = time.time() + 120
while idle("local") < workers or idle("agents") < workers:
    if time.time() > deadline: sys.exit("pools not ready")
    time.sleep(0.5)
def parse(ts): return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
def run(pool):
    start = time.time()
    ids = []
    for off in range(0, jobs, 500):
        n = min(500, jobs - off)
        status, body = call("POST", "/api/v1/jobs:batch", submitter, {"jobs": [{"pool_id": pool, "command": ["true"],
            "cpu_m": 10, "memory_mb": 16, "max_attempts": 1} for _ in range(n)]})
        assert status == 201, body
        ids += [j["id"] for j in body["items"]]
    pending = set(ids); rows = {}
    while pending:
        for jid in list(pending):
            st, j = call("GET", f"/api/v1/jobs/{jid}", submitter)
            if j.get("state") in ("succeeded", "failed", "cancelled", "timed_out", "abandoned"):
                rows[jid] = j; pending.discard(jid)
        if pending: time.sleep(0.2)
    last_end = max(parse(r["finished_at"]) for r in rows.values())
    first_submit = min(parse(r["submitted_at"]) for r in rows.values())
    lat = sorted((parse(r["started_at"]) - parse(r["submitted_at"])).total_seconds() * 1000 for r in rows.values())
    ok = sum(1 for r in rows.values() if r["state"] == "succeeded")
    span = (last_end - first_submit).total_seconds()
    return {"pool": pool, "jobs": jobs, "succeeded": ok, "seconds": round(span, 2), "jobs_per_s": round(jobs / span, 1),
            "submit_to_started_p50_ms": round(lat[len(lat) // 2], 1), "submit_to_started_p99_ms": round(lat[int(len(lat) * 0.99) - 1], 1)}
run("local"); run("agents")  # warm-up
results = [run("local"), run("agents")]
for p in procs: p.terminate()
load = open("/proc/loadavg").read().split()[:3]
out = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(), "loadavg": load,
       "agents": agents, "slots": slots, "results": results}
os.makedirs("bench/results", exist_ok=True)
name = "bench/results/agent-" + datetime.datetime.utcnow().strftime("%Y%m%d-%H%M%S") + ".json"
json.dump(out, open(name, "w"), indent=2)
print(f"agent bench {out['date']}, {out['cores']} cores, load {' '.join(load)} -> {name}")
print("| provider | workers | jobs | succeeded | jobs/s | submit -> started p50 / p99 ms |")
print("|---|---:|---:|---:|---:|---|")
for r in results:
    label = "local (16 workers)" if r["pool"] == "local" else f"agent ({agents} agents x {slots} slots)"
    print(f"| {label} | {agents * slots} | {r['jobs']} | {r['succeeded']} | {r['jobs_per_s']} | {r['submit_to_started_p50_ms']} / {r['submit_to_started_p99_ms']} |")
PY
