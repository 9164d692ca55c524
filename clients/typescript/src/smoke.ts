// Drives a running Hodei server through a client generated from its OpenAPI document (openapi-typescript +
// openapi-fetch): every call is type-checked against the document at build time. Usage:
//   node dist/smoke.js http://127.0.0.1:18480 ADMIN_TOKEN
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [baseUrl, adminToken] = process.argv.slice(2);
if (!baseUrl || !adminToken) throw new Error("usage: smoke.js BASE_URL ADMIN_TOKEN");

const client = (token: string) => createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const admin = client(adminToken);

function must<T>(what: string, r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined) throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  console.log(`${what}: ${r.response.status}`);
  return r.data;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const tenant = must("create tenant", await admin.POST("/api/v1/tenants", {
    body: { id: "ts-client", name: "TypeScript client", weight: 1 },
  }));
  const issued = must("issue token", await admin.POST("/api/v1/tenants/{id}/tokens", {
    params: { path: { id: tenant.id! } }, body: { role: "submitter", name: "ts" },
  }));
  must("create pool", await admin.POST("/api/v1/pools", {
    body: { id: "ts-sim", provider: "simulated", kind: "static", size: 1,
            provider_config: { job_duration_ms: 50, provision_delay_ms: 1 } },
  }));
  const user = client(issued.token!);
  const job = must("submit job", await user.POST("/api/v1/jobs", {
    body: { pool_id: "ts-sim", command: ["echo", "hello"], cpu_m: 100, memory_mb: 64 },
  }));
  let state = job.state;
  for (let i = 0; i < 300 && !["succeeded", "failed", "cancelled", "timed_out", "abandoned"].includes(state ?? ""); i++) {
    await sleep(100);
    state = must(`job ${job.id}`, await user.GET("/api/v1/jobs/{id}", { params: { path: { id: job.id! } } })).state;
  }
  if (state !== "succeeded") throw new Error(`job ended ${state}`);
  const logs = must("logs", await user.GET("/api/v1/jobs/{id}/logs", { params: { path: { id: job.id! } } }));
  if (logs.attempts.length !== 1) throw new Error(`expected one attempt, got ${JSON.stringify(logs)}`);
  const queues = must("queue status", await admin.GET("/api/v1/queues/status"));
  if (!Array.isArray(queues.pools) || !Array.isArray(queues.tenants)) throw new Error("queue status without pools/tenants");
  const refused = await user.POST("/api/v1/jobs", { body: { pool_id: "ts-sim", command: [] } });
  if (refused.response.status !== 422 && refused.response.status !== 400) {
    throw new Error(`an empty command answered ${refused.response.status}`);
  }
  console.log(`bad submission: ${refused.response.status} ${(refused.error as { detail?: string })?.detail}`);
  console.log("typescript client: ok");
}

main().catch((e) => { console.error(e); process.exit(1); });
