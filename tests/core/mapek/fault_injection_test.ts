/**
 * Fault injection on the shared netns testbed: three real agents (r1–r2–r3), each router in its
 * own cgroup which its host collector reads, two supervised services per router. A window of
 * normal operation gives no action anywhere; a killed service, a CPU hog, a memory leak and a
 * lossy link in r1 are each detected by r1 (and only r1 acts on its own resources), diagnosed
 * correctly, healed and recorded with their MTTR in r1's /incidents; a repeated fault reuses the
 * action that worked. The normal window is X0_TEST_NORMAL_WINDOW_MS (default 30 s here;
 * `bench:healing` runs the issue's five minutes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { cgroupPids } from "../../testbed/cgroups.ts";
import { counter, skipOrFail } from "../../testbed/harness.ts";
import { execInRouter } from "../../testbed/testbed.ts";
import {
  EXPECTED_TYPE,
  rigMissing,
  type TestbedRig,
  testbedRigUp,
} from "./fixtures/testbed_rig.ts";

const NORMAL_WINDOW_MS = Number(Deno.env.get("X0_TEST_NORMAL_WINDOW_MS") ?? 30_000);

const actionsOf = (i: { actions: { kind: string; target: string; result: string }[] }) =>
  i.actions.map((a) => [a.kind, a.target, a.result]);

Deno.test({
  name:
    "MAPE-K agents on the netns testbed heal a killed service, a CPU hog, a memory leak and a lossy link in one router; a normal window gives no action",
  async fn(t) {
    const missing = await rigMissing();
    if (missing) return skipOrFail(`MAPE-K fault injection on the testbed needs ${missing}`);
    const rig: TestbedRig = await testbedRigUp();
    const { target: r1, state } = rig;
    const others = state.routers.filter((r) => r !== r1);
    try {
      await t.step(
        "every agent and its services run in the router's cgroup, which its host collector reads",
        async () => {
          for (const r of state.routers) {
            const log = await Deno.readTextFile(`${state.dir}/${r.name}/agent.log`);
            assert.match(log, new RegExp(`host scope cgroup:${r.cgroup}`), r.name);
            for (const d of r.cgroup_dirs!) {
              const pids = await cgroupPids(d);
              assert.ok(pids.includes(r.pid!), `${r.name} agent ${r.pid} not in ${d}`);
              for (const s of rig.services) {
                const pid = await rig.servicePid(r, s.name);
                assert.ok(pid !== null && pids.includes(pid), `${r.name}/${s.name} not in ${d}`);
              }
            }
          }
        },
      );

      await t.step(
        `${NORMAL_WINDOW_MS / 1000} s of normal operation trigger no action on any router`,
        async () => {
          const since = Date.now();
          await new Promise((r) => setTimeout(r, NORMAL_WINDOW_MS));
          const acted = await rig.actionsSince(since);
          assert.deepEqual(acted.map((a) => `${a.router}:${a.incident.type}`), []);
        },
      );

      await t.step("a killed service is restarted by r1's supervisor within 3 s", async () => {
        const before = await rig.servicePid(r1, "beta");
        const { at } = await rig.inject("service_kill", "beta");
        const inc = await rig.waitIncident(r1, EXPECTED_TYPE.service_kill, at);
        assert.ok(inc, "no service_down incident");
        assert.equal(inc.target, "beta");
        assert.equal(inc.outcome, "recovered");
        assert.deepEqual(actionsOf(inc), [["restart_service", "beta", "success"]]);
        assert.ok(inc.mttr_s !== null && inc.mttr_s >= 0);
        const sinceKill = (Date.parse(inc.recovered_at!) - at) / 1000;
        assert.ok(sinceKill <= 3, `recovered ${sinceKill} s after the kill`);
        const after = await rig.servicePid(r1, "beta");
        assert.ok(after !== null && after !== before, `pid ${before} -> ${after}`);
        for (const r of others) assert.deepEqual(await rig.incidents(r, at), [], r.name);
      });

      await t.step(
        "a CPU hog in r1's cgroup is High CPU on r1 only; the hogging service is restarted",
        async () => {
          const { at } = await rig.inject("cpu_hog", "alpha");
          const inc = await rig.waitIncident(r1, EXPECTED_TYPE.cpu_hog, at);
          assert.ok(inc, "no high_cpu incident on r1");
          assert.equal(inc.target, "r1");
          assert.equal(inc.diagnosis.target.kind, "node");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(actionsOf(inc), [["restart_service", "alpha", "success"]]);
          assert.ok(inc.metrics["host/node"].cpu_percent > 90, JSON.stringify(inc.metrics));
          assert.ok(typeof inc.mttr_s === "number");
          // The other routers share the kernel but not the cgroup: they saw nothing.
          for (const r of others) assert.deepEqual(await rig.incidents(r, at), [], r.name);
        },
      );

      await t.step(
        "a busy loop no service owns (run in r2 with execInRouter) is High CPU on r2 only, and no innocent service is restarted",
        async () => {
          const r2 = rig.peer;
          const highCpuEvents = async () =>
            await counter(r2, "self_healing_events_total", `type="high_cpu"`);
          const before = await Promise.all(rig.services.map((s) => rig.servicePid(r2, s.name)));
          const at = Date.now();
          const hog = execInRouter(state, r2.name, ["sh", "-c", "while :; do :; done"], {
            stdout: "null",
            stderr: "null",
          });
          try {
            const inc = await rig.waitIncident(r2, EXPECTED_TYPE.cpu_hog, at);
            assert.ok(inc, "no high_cpu incident on r2");
            assert.equal(inc.target, "r2");
            assert.equal(inc.outcome, "no_action");
            assert.deepEqual(inc.plan?.actions.map((a) => a.kind), ["no_action"]);
            assert.match(inc.plan!.actions[0].reason, /no restartable service is the cause/);
            assert.ok(inc.metrics["host/node"].cpu_percent > 90, JSON.stringify(inc.metrics));
            assert.ok(await highCpuEvents() >= 1);
          } finally {
            hog.kill("SIGKILL");
            await hog.status;
          }
          const after = await Promise.all(rig.services.map((s) => rig.servicePid(r2, s.name)));
          assert.deepEqual(after, before, "a service of r2 was restarted");
          for (const r of [r1, ...others.filter((o) => o !== r2)]) {
            assert.deepEqual(await rig.incidents(r, at), [], r.name);
          }
        },
      );

      await t.step(
        "a memory leak is High Memory on r1: cache clear fails to heal, restart escalates and heals",
        async () => {
          const { at } = await rig.inject("memory_hog", "beta");
          const inc = await rig.waitIncident(r1, EXPECTED_TYPE.memory_hog, at);
          assert.ok(inc, "no high_memory incident");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(actionsOf(inc), [
            ["clear_cache", "r1", "failure"],
            ["restart_service", "beta", "success"],
          ]);
          assert.ok(inc.metrics["host/node"].memory_percent > 85, JSON.stringify(inc.metrics));
          for (const r of others) assert.deepEqual(await rig.incidents(r, at), [], r.name);
        },
      );

      await t.step(
        "the next memory leak goes straight to the restart that worked before",
        async () => {
          await new Promise((r) => setTimeout(r, 3500)); // per-target cooldown
          const { at } = await rig.inject("memory_hog", "beta");
          const inc = await rig.waitIncident(r1, EXPECTED_TYPE.memory_hog, at);
          assert.ok(inc, "no high_memory incident");
          assert.equal(inc.plan?.source, "history");
          assert.deepEqual(actionsOf(inc), [["restart_service", "beta", "success"]]);
        },
      );

      await t.step(
        "a lossy link r1–r2 is Network Loss on that link; r1's route to r2 moves off it and comes back",
        async () => {
          assert.equal(await rig.viaDev(), rig.lossyIf);
          const { at } = await rig.inject("lossy_link");
          const inc = await rig.waitIncident(r1, EXPECTED_TYPE.lossy_link, at);
          assert.ok(inc, "no network_loss incident");
          assert.equal(inc.diagnosis.target.kind, "link");
          assert.equal(inc.target, "r1|r2");
          assert.equal(inc.outcome, "recovered");
          assert.deepEqual(actionsOf(inc), [["switch_route", "r2", "success"]]);
          assert.ok(typeof inc.mttr_s === "number");
          assert.notEqual(await rig.viaDev(), rig.lossyIf);
          await rig.clear("lossy_link");
          assert.equal(await rig.viaDev(), rig.lossyIf, "route did not come back");
          const after = await rig.incidents(r1, at);
          assert.equal(after.filter((i) => i.type === "network_loss").length, 1);
        },
      );

      await t.step("r1's healing metrics count every recovered kind", async () => {
        for (const type of ["service_down", "high_cpu", "high_memory", "network_loss"]) {
          const n = await counter(
            r1,
            "self_healing_events_total",
            `type="${type}",result="recovered"`,
          );
          assert.ok(n >= 1, `${type}: ${n}`);
        }
        assert.ok(await counter(r1, "self_healing_mttr_seconds_count", `type="service_down"`) >= 1);
        assert.ok(await counter(r1, "mape_k_cycle_duration_seconds_count") >= 10);
      });
    } finally {
      await rig.stop();
    }
  },
});
