import assert from "node:assert/strict";
import type { Diagnosis } from "../../../core/mapek/analyze.ts";
import { type Incident, incidentStore, newIncidentId } from "../../../core/mapek/knowledge.ts";

const diagnosis: Diagnosis = {
  type: "service_down",
  target: { kind: "service", id: "web" },
  confidence: 1,
  evidence: {},
  signature: "service_down:service",
  symptom: "Service web down",
};

function incident(at: number, over: Partial<Incident> = {}): Incident {
  return {
    id: newIncidentId(at),
    node_id: "r1",
    detected_at: new Date(at).toISOString(),
    type: "service_down",
    target: "web",
    signature: "service_down:service",
    metrics: { "host/node": { cpu_percent: 3 } },
    diagnosis,
    plan: null,
    actions: [],
    outcome: "open",
    recovered_at: null,
    mttr_s: null,
    ...over,
  };
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("incidentStore() lists by since and type in detection order", () =>
  withKv(async (kv) => {
    const store = incidentStore(kv);
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const a = incident(t0), b = incident(t0 + 1000, { type: "high_cpu" }), c = incident(t0 + 2000);
    for (const i of [c, a, b]) await store.create(i);
    assert.deepEqual((await store.list()).map((i) => i.id), [a.id, b.id, c.id]);
    assert.deepEqual((await store.list({ since: t0 + 1000 })).map((i) => i.id), [b.id, c.id]);
    assert.deepEqual((await store.list({ type: "service_down" })).map((i) => i.id), [a.id, c.id]);
    assert.deepEqual((await store.list({ type: "service_down", since: t0 + 1 })).map((i) => i.id), [
      c.id,
    ]);
    assert.deepEqual((await store.list({ limit: 1 })).map((i) => i.id), [a.id]);
    assert.deepEqual(await store.get(b.id), b);
    assert.equal(await store.get("inc-missing"), null);
  }));

Deno.test("incidentStore().create() refuses a duplicate id and invalid input, changing nothing", () =>
  withKv(async (kv) => {
    const store = incidentStore(kv);
    const a = incident(Date.now());
    await store.create(a);
    await assert.rejects(store.create({ ...a, target: "other" }), /already exists/);
    assert.equal((await store.get(a.id))!.target, "web");
    await assert.rejects(store.create({ ...a, id: "bad id/x" }), /Invalid incident id/);
    await assert.rejects(
      store.create({ ...incident(0), detected_at: "yesterday" }),
      /Invalid incident detected_at/,
    );
    assert.equal((await store.list()).length, 1);
  }));

Deno.test("incidentStore().update() records actions and counts their outcomes per signature once", () =>
  withKv(async (kv) => {
    const store = incidentStore(kv);
    const a = incident(Date.now());
    await store.create(a);
    const rec = (kind: "clear_cache" | "restart_service", result: "success" | "failure") => ({
      kind,
      target: "web",
      started_at: a.detected_at,
      finished_at: a.detected_at,
      result,
      detail: "",
    });
    await store.update(
      a.id,
      (i) => ({ ...i, actions: [...i.actions, rec("clear_cache", "failure")] }),
    );
    await store.update(
      a.id,
      (i) => ({ ...i, actions: [...i.actions, rec("restart_service", "success")] }),
    );
    await store.update(a.id, (i) => ({ ...i, outcome: "recovered", mttr_s: 1.5 }));
    const stats = await store.actionStats("service_down:service");
    assert.deepEqual(Object.fromEntries(stats), {
      clear_cache: { success: 0, failure: 1 },
      restart_service: { success: 1, failure: 0 },
    });
    assert.equal((await store.get(a.id))!.mttr_s, 1.5);
    await assert.rejects(store.update(a.id, (i) => ({ ...i, type: "high_cpu" })), /cannot change/);
    await assert.rejects(store.update("inc-none", (i) => i), /No such incident/);
  }));

Deno.test("incidentStore().update() applies concurrent changes without losing one", () =>
  withKv(async (kv) => {
    const store = incidentStore(kv);
    const a = incident(Date.now());
    await store.create(a);
    await Promise.all(Array.from({ length: 8 }, (_, n) =>
      store.update(a.id, (i) => ({
        ...i,
        actions: [...i.actions, {
          kind: "restart_service" as const,
          target: `s${n}`,
          started_at: "",
          finished_at: "",
          result: "success" as const,
          detail: "",
        }],
      }))));
    assert.equal((await store.get(a.id))!.actions.length, 8);
    assert.deepEqual(
      Object.fromEntries(await store.actionStats("service_down:service")),
      { restart_service: { success: 8, failure: 0 } },
    );
  }));
