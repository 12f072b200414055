import assert from "node:assert/strict";
import type { Diagnosis } from "../../../core/mapek/analyze.ts";
import { executePlan } from "../../../core/mapek/execute.ts";
import type { ActionRecord } from "../../../core/mapek/knowledge.ts";
import type { Plan, PlannedAction } from "../../../core/mapek/plan.ts";

const d: Diagnosis = {
  type: "high_memory",
  target: { kind: "node", id: "r1" },
  confidence: 0.9,
  evidence: {},
  signature: "high_memory:node",
  symptom: "High Memory",
};

const plan = (actions: PlannedAction["kind"][], over: Partial<Plan> = {}): Plan => ({
  actions: actions.map((kind) => ({
    kind,
    target: kind === "clear_cache" ? "r1" : "web",
    reason: "",
  })),
  source: "policy",
  guard: null,
  dry_run: false,
  reason: "",
  ...over,
});

Deno.test("executePlan() escalates to the next action when the first does not heal, and stops at the one that does", async () => {
  const ran: string[] = [];
  let healed = false;
  const records: ActionRecord[] = [];
  const result = await executePlan(d, plan(["clear_cache", "restart_service", "isolate_link"]), {
    run: (a) => {
      ran.push(a.kind);
      if (a.kind === "restart_service") healed = true;
      return Promise.resolve(`did ${a.kind}`);
    },
    verify: () => Promise.resolve(healed),
    verifyTimeoutMs: 150,
    pollMs: 20,
    onAction: (r) => void records.push(r),
  });
  assert.deepEqual(ran, ["clear_cache", "restart_service"]);
  assert.equal(result.outcome, "recovered");
  assert.deepEqual(result.actions.map((a) => [a.kind, a.result]), [
    ["clear_cache", "failure"],
    ["restart_service", "success"],
  ]);
  assert.match(result.actions[0].detail, /symptom still present after 150 ms/);
  assert.deepEqual(records, result.actions);
  assert.ok(result.recoveredAt !== null);
});

Deno.test("executePlan() records an executor error and escalates; all failing means failed", async () => {
  const result = await executePlan(d, plan(["clear_cache", "restart_service"]), {
    run: (a) =>
      a.kind === "clear_cache" ? Promise.reject(new Error("hook down")) : Promise.resolve("ok"),
    verify: () => Promise.resolve(false),
    verifyTimeoutMs: 50,
    pollMs: 10,
  });
  assert.equal(result.outcome, "failed");
  assert.deepEqual(result.actions.map((a) => [a.kind, a.result, a.detail.split(";")[0]]), [
    ["clear_cache", "error", "hook down"],
    ["restart_service", "failure", "ok"],
  ]);
  assert.equal(result.recoveredAt, null);
});

Deno.test("executePlan() in dry-run records what it would do and runs nothing", async () => {
  let ran = 0;
  const result = await executePlan(d, plan(["clear_cache", "restart_service"], { dry_run: true }), {
    run: () => {
      ran++;
      return Promise.resolve("");
    },
    verify: () => Promise.resolve(true),
    verifyTimeoutMs: 50,
  });
  assert.equal(ran, 0);
  assert.equal(result.outcome, "dry_run");
  assert.deepEqual(result.actions.map((a) => a.result), ["dry_run", "dry_run"]);
});

Deno.test("executePlan() with only no_action does nothing", async () => {
  const result = await executePlan(d, plan(["no_action"]), {
    run: () => Promise.reject(new Error("must not run")),
    verify: () => Promise.resolve(true),
    verifyTimeoutMs: 50,
  });
  assert.deepEqual(result, { outcome: "no_action", actions: [], recoveredAt: null });
});
