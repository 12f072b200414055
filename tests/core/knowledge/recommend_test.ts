import assert from "node:assert/strict";
import { KnowledgeBase } from "../../../core/knowledge/knowledge_base.ts";
import { recommendAction } from "../../../core/knowledge/recommend.ts";
import { incidentDocument, type IncidentRecord } from "../../../core/knowledge/incident.ts";

const inc = (
  id: string,
  type: string,
  action: string,
  outcome: "success" | "failure",
  metrics: Record<string, number>,
  summary: string,
): IncidentRecord => ({
  id,
  detected_at: "2026-06-01T00:00:00Z",
  diagnosis: { type, target: "r1" },
  actions: [{ action }],
  outcome,
  metrics,
  summary,
  mttr_s: outcome === "success" ? 2 : undefined,
});

async function withKb(fn: (kb: KnowledgeBase) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_rec_" });
  const kb = await KnowledgeBase.open(dir, { cache: false });
  try {
    await fn(kb);
  } finally {
    await kb.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("recommendAction() returns similar incidents and the action that worked, with confidence", () =>
  withKb(async (kb) => {
    await kb.add([
      inc(
        "1",
        "high_cpu",
        "restart_service",
        "success",
        { cpu_percent: 97 },
        "babeld spinning at full cpu",
      ),
      inc(
        "2",
        "high_cpu",
        "clear_cache",
        "failure",
        { cpu_percent: 95 },
        "cpu saturated by a retry loop",
      ),
      inc(
        "3",
        "high_cpu",
        "restart_service",
        "success",
        { cpu_percent: 93 },
        "runaway process using the cpu",
      ),
      inc(
        "4",
        "high_memory",
        "clear_cache",
        "success",
        { memory_percent: 92 },
        "cache filled the memory",
      ),
      inc(
        "5",
        "network_loss",
        "switch_route",
        "success",
        { packet_loss_percent: 20 },
        "lossy radio link",
      ),
    ].map(incidentDocument));
    const r = await recommendAction(kb, "cpu at 96 percent, a process is spinning", {
      cpu_percent: 96,
    });
    assert.equal(r.recommendation?.action, "restart_service");
    assert.equal(r.recommendation?.source, "incidents");
    assert.ok(r.recommendation!.confidence > 0 && r.recommendation!.confidence <= 1);
    assert.deepEqual(r.recommendation?.based_on.sort(), ["incident:1", "incident:3"]);
    assert.equal(r.similar[0].fault_type, "high_cpu");
    assert.ok(r.similar.every((s) => s.action && s.outcome));
    const mem = await recommendAction(kb, "memory nearly full", { memory_percent: 90 });
    assert.equal(mem.recommendation?.action, "clear_cache");
  }));

Deno.test("recommendAction() lets failed outcomes count against an action", () =>
  withKb(async (kb) => {
    await kb.add([
      inc(
        "1",
        "link_flapping",
        "switch_route",
        "failure",
        { state_changes_5m: 9 },
        "link to r4 flapping",
      ),
      inc(
        "2",
        "link_flapping",
        "switch_route",
        "failure",
        { state_changes_5m: 8 },
        "link to r4 flapping again",
      ),
      inc(
        "3",
        "link_flapping",
        "isolate_link",
        "success",
        { state_changes_5m: 10 },
        "link to r4 flapping, isolated",
      ),
    ].map(incidentDocument));
    const r = await recommendAction(kb, "link to r4 flapping", { state_changes_5m: 9 });
    assert.equal(r.recommendation?.action, "isolate_link");
    assert.equal(r.similar.length, 3);
  }));

Deno.test("recommendAction() falls back to a runbook, and to null when nothing matches", () =>
  withKb(async (kb) => {
    assert.deepEqual(await recommendAction(kb, "anything", {}), {
      similar: [],
      recommendation: null,
    });
    await kb.add([{
      id: "runbook:clock",
      content: "Clock skew: chrony offset large, TLS fails; restart the time daemon",
      document_type: "runbook",
      metadata: { action: "restart_service", fault_type: "clock_skew" },
    }]);
    const r = await recommendAction(kb, "chrony offset is large", {});
    assert.deepEqual(r.similar, []);
    assert.equal(r.recommendation?.action, "restart_service");
    assert.equal(r.recommendation?.source, "runbook");
    assert.ok(r.recommendation!.confidence <= 0.5);
  }));

Deno.test("incidentDocument() keeps what the recommender reads", () => {
  const d = incidentDocument(
    inc("9", "service_down", "restart_service", "success", { service_up: 0 }, "nginx exited"),
  );
  assert.equal(d.id, "incident:9");
  assert.deepEqual(d.tags, ["service_down", "restart_service"]);
  assert.deepEqual(d.metadata!.metric_signature, { service_up: 0 });
  assert.match(
    d.content,
    /service down on r1\nnginx exited\nmetrics: service_up=0\nactions: restart_service; outcome: success/,
  );
});
