import assert from "node:assert/strict";
import { createHealthRegistry } from "../../core/health/health.ts";
import { standaloneMeshView } from "../../core/mesh/view.ts";
import { registerProcessMetrics } from "../../core/telemetry/process_metrics.ts";
import { registerUptime } from "../../core/telemetry/node_metrics.ts";
import { createApp } from "../../routes/app.ts";
import { HealthBody } from "../../routes/health.ts";
import { MeshPeerBody, MeshRouteBody, MeshStatusBody } from "../../routes/mesh.ts";
import { ErrorBody } from "../../routes/errors.ts";

function makeApp() {
  const health = createHealthRegistry();
  const deps = {
    nodeId: "node-test",
    version: "0.1.0",
    startedAt: performance.now() - 1500,
    health,
    mesh: standaloneMeshView("node-test", "10.255.0.1"),
  };
  return { app: createApp(deps), health };
}

Deno.test("GET /health answers 200 with status, version, node id and uptime", async () => {
  const { app } = makeApp();
  const res = await app.request("/health");
  assert.equal(res.status, 200);
  const body = HealthBody.parse(await res.json());
  assert.equal(body.status, "ok");
  assert.match(body.version, /^\d+\.\d+\.\d+/);
  assert.equal(body.node_id, "node-test");
  assert.ok(body.uptime_s >= 1.5 && body.uptime_s < 60);
  assert.equal(body.reasons, undefined);
});

Deno.test("GET /health answers 503 degraded or unhealthy with reasons", async (t) => {
  const { app, health } = makeApp();
  await t.step("degraded", async () => {
    health.register({
      name: "ebpf",
      critical: false,
      check: () => ({ ok: false, reason: "no BPF" }),
    });
    const res = await app.request("/health");
    assert.equal(res.status, 503);
    const body = HealthBody.parse(await res.json());
    assert.equal(body.status, "degraded");
    assert.deepEqual(body.reasons, ["ebpf: no BPF"]);
  });
  await t.step("unhealthy", async () => {
    health.register({
      name: "storage",
      critical: true,
      check: () => ({ ok: false, reason: "closed" }),
    });
    const res = await app.request("/health");
    assert.equal(res.status, 503);
    assert.equal((await res.json()).status, "unhealthy");
  });
});

Deno.test("GET /mesh/status, /mesh/peers and /mesh/routes serve the standalone node", async () => {
  const { app } = makeApp();
  const status = MeshStatusBody.parse(await (await app.request("/mesh/status")).json());
  assert.deepEqual(status, {
    node_id: "node-test",
    router_address: "10.255.0.1",
    backend: "native",
    state: "standalone",
    neighbours: 0,
    routes: 0,
    lsa_db_size: 0,
  });
  const peers = await (await app.request("/mesh/peers")).json();
  assert.deepEqual(peers, { peers: [] });
  MeshPeerBody.array().parse(peers.peers);
  const routes = await (await app.request("/mesh/routes")).json();
  assert.deepEqual(routes, { routes: [] });
  MeshRouteBody.array().parse(routes.routes);
});

Deno.test("unknown routes get 404 JSON and wrong methods get 405 with Allow", async (t) => {
  const { app } = makeApp();
  await t.step("404", async () => {
    const res = await app.request("/nope/nothing");
    assert.equal(res.status, 404);
    const body = ErrorBody.parse(await res.json());
    assert.equal(body.error.code, "not_found");
    assert.match(body.error.message, /No route for GET \/nope\/nothing/);
  });
  await t.step("405", async () => {
    for (const path of ["/health", "/mesh/routes", "/metrics"]) {
      const res = await app.request(path, { method: "DELETE" });
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      assert.equal(ErrorBody.parse(await res.json()).error.code, "method_not_allowed");
    }
  });
});

Deno.test("every response carries an x-request-id, and a client's id is echoed", async () => {
  const { app } = makeApp();
  const ids = new Set<string>();
  for (const [path, method] of [["/health", "GET"], ["/nope", "GET"], ["/health", "POST"]]) {
    const res = await app.request(path, { method });
    await res.body?.cancel();
    const id = res.headers.get("x-request-id");
    assert.ok(id && id.length >= 8, `${method} ${path} has x-request-id`);
    ids.add(id);
  }
  assert.equal(ids.size, 3);
  const res = await app.request("/health", { headers: { "x-request-id": "client-abc-123" } });
  await res.body?.cancel();
  assert.equal(res.headers.get("x-request-id"), "client-abc-123");
});

Deno.test("GET /metrics holds each named metric after traffic", async () => {
  const { app } = makeApp();
  registerProcessMetrics();
  registerUptime(performance.now() - 2000);
  for (const path of ["/health", "/mesh/status", "/missing"]) {
    await (await app.request(path)).body?.cancel();
  }
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  const text = await res.text();
  const expected = [
    /^http_requests_total\{method="GET",route="\/health",status="200"\} \d+/m,
    /^http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/m,
    /^http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/mesh\/status"\} \d+/m,
    /^http_request_duration_seconds_count\{method="GET",route="\/health"\} \d+/m,
    /^node_health_status 1$/m,
    /^node_uptime_seconds \d+(\.\d+)?$/m,
    /^process_resident_memory_bytes \d+/m,
    /^process_heap_bytes \d+/m,
    /^process_cpu_seconds_total \d+(\.\d+)?/m,
    /^process_open_fds \d+/m,
  ];
  for (const re of expected) assert.match(text, re);
});

Deno.test("GET /openapi.json documents every route from the validating schemas", async () => {
  const { app } = makeApp();
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.match(doc.openapi, /^3\./);
  for (const path of ["/health", "/mesh/status", "/mesh/peers", "/mesh/routes", "/metrics"]) {
    assert.ok(doc.paths[path]?.get, `OpenAPI documents GET ${path}`);
  }
  const schemas = doc.components.schemas;
  for (const name of ["Health", "MeshStatus", "MeshPeer", "MeshRoute"]) {
    assert.ok(schemas[name], `schema ${name}`);
  }
  assert.deepEqual(schemas.Health.properties.status.enum, ["ok", "degraded", "unhealthy"]);
  assert.deepEqual(doc.paths["/health"].get.responses["503"].content["application/json"].schema, {
    $ref: "#/components/schemas/Health",
  });
});
