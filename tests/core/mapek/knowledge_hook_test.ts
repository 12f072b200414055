import assert from "node:assert/strict";
import { KnowledgeBase } from "../../../core/knowledge/knowledge_base.ts";
import type { Incident } from "../../../core/mapek/knowledge.ts";
import {
  incidentRecord,
  kbRecommender,
  recordIncident,
} from "../../../core/mapek/knowledge_hook.ts";

function memoryIncident(
  n: number,
  action: "restart_service" | "clear_cache",
  ok: boolean,
): Incident {
  const at = Date.parse("2026-11-27T08:00:00Z") + n * 60_000;
  const iso = new Date(at).toISOString();
  return {
    id: `inc-test-${n}`,
    node_id: "r1",
    detected_at: iso,
    type: "high_memory",
    target: "r1",
    signature: "high_memory:node",
    metrics: {
      "host/node": { cpu_percent: 4, memory_percent: 93 },
      "links/r2": { packet_loss_percent: 0 },
    },
    diagnosis: {
      type: "high_memory",
      target: { kind: "node", id: "r1" },
      confidence: 0.8,
      evidence: {},
      signature: "high_memory:node",
      symptom: "High Memory on r1: memory_percent 93 > 85",
    },
    plan: null,
    actions: [{
      kind: action,
      target: "web",
      started_at: iso,
      finished_at: iso,
      result: ok ? "success" : "failure",
      detail: "",
    }],
    outcome: ok ? "recovered" : "failed",
    recovered_at: ok ? iso : null,
    mttr_s: ok ? 2 : null,
  };
}

Deno.test("incidentRecord() keeps what the knowledge base needs and skips incidents without actions", () => {
  const rec = incidentRecord(memoryIncident(1, "restart_service", true))!;
  assert.equal(rec.diagnosis.type, "high_memory");
  assert.deepEqual(rec.actions, [{ action: "restart_service", target: "web", result: "success" }]);
  assert.deepEqual(rec.metrics, { cpu_percent: 4, memory_percent: 93, packet_loss_percent: 0 });
  assert.equal(rec.outcome, "recovered");
  assert.equal(incidentRecord({ ...memoryIncident(2, "clear_cache", true), actions: [] }), null);
});

Deno.test("finished incidents recorded in the knowledge base drive its recommendation to the planner", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0mk-kb-" });
  try {
    const kb = await KnowledgeBase.open(dir);
    try {
      assert.equal(await recordIncident(kb, memoryIncident(1, "clear_cache", false)), true);
      assert.equal(await recordIncident(kb, memoryIncident(2, "restart_service", true)), true);
      assert.equal(await recordIncident(kb, memoryIncident(3, "restart_service", true)), true);
      await kb.whenIndexed();
      const rec = await kbRecommender(kb)("High Memory on r1: memory_percent 94 > 85", {
        cpu_percent: 5,
        memory_percent: 94,
      });
      assert.ok(rec);
      assert.equal(rec.action, "restart_service");
      assert.ok(rec.confidence > 0 && rec.confidence <= 1);
    } finally {
      await kb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
