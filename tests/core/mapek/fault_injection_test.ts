/**
 * Fault injection on a real netns router (r1 with its own cgroup, links to r2 and r3, two
 * supervised services): a normal window gives no action; a CPU hog, a memory leak, a killed
 * service and a lossy link are each detected, diagnosed correctly, healed and recorded with
 * their MTTR; a repeated fault reuses the action that worked. The link prober is a fixture
 * standing in for the mesh agent's prober (see fixtures/router_lab.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { registry } from "../../../core/telemetry/metrics.ts";
import { EXPECTED_TYPE, type Rig, rigUp } from "./fixtures/healing_rig.ts";
import { labMissing, skipOrFail } from "./fixtures/router_lab.ts";

const NORMAL_WINDOW_MS = Number(Deno.env.get("X0_TEST_NORMAL_WINDOW_MS") ?? 30_000);

Deno.test({
  name:
    "MAPE-K on a netns router heals a CPU hog, a memory leak, a killed service and a lossy link (prober fixture stands in for the mesh prober)",
  async fn(t) {
    const missing = await labMissing();
    if (missing) return skipOrFail(`MAPE-K fault injection needs ${missing}`);
    const rig: Rig = await rigUp();
    try {
      await t.step(
        `${NORMAL_WINDOW_MS / 1000} s of normal operation trigger no action`,
        async () => {
          const since = Date.now();
          await new Promise((r) => setTimeout(r, NORMAL_WINDOW_MS));
          const acted = await rig.actionsSince(since);
          assert.deepEqual(acted.map((i) => `${i.type}:${i.target}`), []);
          assert.equal(rig.mapek.supervisor.status("alpha")!.restarts, 0);
        },
      );

      await t.step("a killed service is restarted and verified within 3 s", async () => {
        const { at } = await rig.inject("service_kill", "beta");
        const inc = await rig.waitIncident(EXPECTED_TYPE.service_kill, at);
        assert.ok(inc, "no service_down incident");
        assert.equal(inc.target, "beta");
        assert.equal(inc.outcome, "recovered");
        assert.deepEqual(inc.actions.map((a) => [a.kind, a.target, a.result]), [
          ["restart_service", "beta", "success"],
        ]);
        assert.ok(inc.mttr_s !== null && inc.mttr_s >= 0);
        const sinceInjection = (Date.parse(inc.recovered_at!) - at) / 1000;
        assert.ok(sinceInjection <= 3, `recovered ${sinceInjection} s after the kill`);
        const res = await fetch(`${rig.services[1].url}/health`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      });

      await t.step(
        "a CPU hog in r1's cgroup is High CPU on r1 and the hogging service is restarted",
        async () => {
          const betaRestarts = rig.mapek.supervisor.status("beta")!.restarts;
          const { at } = await rig.inject("cpu_hog", "alpha");
          const inc = await rig.waitIncident(EXPECTED_TYPE.cpu_hog, at);
          assert.ok(inc, "no high_cpu incident");
          assert.equal(inc.target, "r1");
          assert.equal(inc.diagnosis.target.kind, "node");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(inc.actions.map((a) => [a.kind, a.target, a.result]), [
            ["restart_service", "alpha", "success"],
          ]);
          assert.ok(inc.metrics["host/node"].cpu_percent > 90, JSON.stringify(inc.metrics));
          assert.ok(typeof inc.mttr_s === "number");
          assert.equal(rig.mapek.supervisor.status("beta")!.restarts, betaRestarts);
        },
      );

      await t.step(
        "a memory leak is High Memory: cache clear fails to heal, restart escalates and heals",
        async () => {
          const { at } = await rig.inject("memory_hog", "beta");
          const inc = await rig.waitIncident(EXPECTED_TYPE.memory_hog, at);
          assert.ok(inc, "no high_memory incident");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(inc.actions.map((a) => [a.kind, a.target, a.result]), [
            ["clear_cache", "r1", "failure"],
            ["restart_service", "beta", "success"],
          ]);
          assert.ok(inc.metrics["host/node"].memory_percent > 85);
        },
      );

      await t.step(
        "the next memory leak goes straight to the restart that worked before",
        async () => {
          await new Promise((r) => setTimeout(r, 3500)); // per-target cooldown
          const { at } = await rig.inject("memory_hog", "beta");
          const inc = await rig.waitIncident(EXPECTED_TYPE.memory_hog, at);
          assert.ok(inc, "no high_memory incident");
          assert.equal(inc.plan?.source, "history");
          assert.deepEqual(inc.actions.map((a) => [a.kind, a.result]), [[
            "restart_service",
            "success",
          ]]);
        },
      );

      await t.step(
        "a lossy link r1–r2 is Network Loss on that link; routes move to r3 and traffic flows",
        async () => {
          assert.equal(await rig.lab.currentGateway(), rig.lab.r2LinkIp);
          const { at } = await rig.inject("lossy_link");
          const inc = await rig.waitIncident(EXPECTED_TYPE.lossy_link, at);
          assert.ok(inc, "no network_loss incident");
          assert.equal(inc.diagnosis.target.kind, "link");
          assert.equal(inc.target, "r1|r2");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(inc.actions.map((a) => [a.kind, a.target, a.result]), [
            ["switch_route", "r2", "success"],
          ]);
          assert.equal(await rig.lab.currentGateway(), rig.lab.r3LinkIp);
          // Real packets to r2's router address now flow through r3 without loss.
          await new Promise((r) => setTimeout(r, 1600));
          const loss = rig.lab.e2eLoss();
          assert.ok(loss !== null && loss <= 5, `end-to-end loss ${loss}%`);
          // The lossy link stays mitigated: no second incident while it is still lossy.
          await new Promise((r) => setTimeout(r, 3000));
          assert.equal((await rig.mapek.store.list({ since: at, type: "network_loss" })).length, 1);
        },
      );

      await t.step(
        "every incident is stored with MTTR and the healing metrics count them",
        async () => {
          const all = await rig.mapek.store.list();
          assert.ok(all.length >= 5);
          for (const i of all.filter((x) => x.outcome === "recovered")) {
            assert.ok(i.mttr_s !== null && i.recovered_at !== null, i.id);
          }
          const events = await registry.getSingleMetricAsString("self_healing_events_total");
          for (const type of ["service_down", "high_cpu", "high_memory", "network_loss"]) {
            assert.match(events, new RegExp(`type="${type}",result="recovered"\\} [1-9]`));
          }
          const mttr = await registry.getSingleMetricAsString("self_healing_mttr_seconds");
          assert.match(mttr, /self_healing_mttr_seconds_count\{type="service_down"\} [1-9]/);
          const cycles = await registry.getSingleMetricAsString("mape_k_cycle_duration_seconds");
          assert.match(cycles, /mape_k_cycle_duration_seconds_count [1-9]/);
        },
      );
    } finally {
      await rig.stop();
    }
  },
});
