import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Diagnosis } from "../../core/mapek/analyze.ts";
import { type Incident, incidentStore, newIncidentId } from "../../core/mapek/knowledge.ts";
import { onError } from "../../routes/errors.ts";
import { incidentsRoutes } from "../../routes/incidents.ts";

const diagnosis: Diagnosis = {
  type: "high_cpu",
  target: { kind: "node", id: "r1" },
  confidence: 0.8,
  evidence: { values: [95, 96, 97] },
  signature: "high_cpu:node",
  symptom: "High CPU on r1",
};

function incident(at: number, type: Incident["type"]): Incident {
  return {
    id: newIncidentId(at),
    node_id: "r1",
    detected_at: new Date(at).toISOString(),
    type,
    target: "r1",
    signature: `${type}:node`,
    metrics: { "host/node": { cpu_percent: 97 } },
    diagnosis: { ...diagnosis, type },
    plan: {
      actions: [{ kind: "restart_service", target: "web", reason: "highest CPU consumer" }],
      source: "policy",
      guard: null,
      dry_run: false,
      reason: "restart_service(web)",
    },
    actions: [{
      kind: "restart_service",
      target: "web",
      started_at: new Date(at).toISOString(),
      finished_at: new Date(at + 500).toISOString(),
      result: "success",
      detail: "restarted web as pid 42",
    }],
    outcome: "recovered",
    recovered_at: new Date(at + 500).toISOString(),
    mttr_s: 0.5,
  };
}

Deno.test("GET /incidents and /incidents/:id serve the stored incidents", async (t) => {
  const kv = await Deno.openKv(":memory:");
  try {
    const app = new OpenAPIHono();
    app.route("/", incidentsRoutes({ kv }));
    app.onError(onError);
    const store = incidentStore(kv);
    const t0 = Date.parse("2026-11-27T08:00:00Z");
    const a = incident(t0, "high_cpu"), b = incident(t0 + 60_000, "service_down");
    await store.create(a);
    await store.create(b);
    const get = async (path: string) => {
      const res = await app.request(path);
      return { status: res.status, body: await res.json() };
    };

    await t.step(
      "the list is oldest first and filters by since (ISO or epoch ms) and type",
      async () => {
        assert.deepEqual((await get("/incidents")).body.incidents.map((i: Incident) => i.id), [
          a.id,
          b.id,
        ]);
        const since = encodeURIComponent(new Date(t0 + 1).toISOString());
        assert.deepEqual(
          (await get(`/incidents?since=${since}`)).body.incidents.map((i: Incident) => i.id),
          [b.id],
        );
        assert.deepEqual((await get(`/incidents?since=${t0 + 60_000}`)).body.incidents.length, 1);
        assert.deepEqual(
          (await get("/incidents?type=high_cpu")).body.incidents.map((i: Incident) => i.id),
          [a.id],
        );
        assert.deepEqual((await get("/incidents?type=network_loss")).body.incidents, []);
      },
    );

    await t.step("one incident comes back exactly as stored", async () => {
      const { status, body } = await get(`/incidents/${a.id}`);
      assert.equal(status, 200);
      assert.deepEqual(body, a);
    });

    await t.step("an unknown id is 404 and a bad query is 400 with a clear message", async () => {
      const missing = await get("/incidents/inc-nope");
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, {
        error: { code: "not_found", message: "No such incident: inc-nope" },
      });
      const badType = await get("/incidents?type=meltdown");
      assert.equal(badType.status, 400);
      assert.match(badType.body.error.message, /Invalid query type/);
      const badSince = await get("/incidents?since=yesterday");
      assert.equal(badSince.status, 400);
      assert.match(
        badSince.body.error.message,
        /Invalid query since: expected ISO-8601 or epoch ms, got yesterday/,
      );
      const badLimit = await get("/incidents?limit=0");
      assert.equal(badLimit.status, 400);
    });
  } finally {
    kv.close();
  }
});
