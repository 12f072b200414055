/**
 * The agent with mesh.fast_liveness on a 4-router netns ring (real agents, real helpers, mTLS
 * control channel, so the helper runs authenticated with keys derived from the probe keys):
 * a silent cut reroutes through the helper's `down` long before the slow probes (1 s dead
 * interval here) could notice; and a missing helper binary is a clear ConfigError.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../../core/errors.ts";
import { configSchema } from "../../../core/config/schema.ts";
import { startNativeMesh } from "../../../core/mesh/native_agent.ts";
import { ensureLivenessBinary } from "../../../native/ensure_built.ts";
import { missingForNetns, skipOrFail, waitFor } from "../../testbed/harness.ts";
import { nsRun } from "../../testbed/netns.ts";
import { cut, restore, router, testbedDown, testbedUp } from "../../testbed/testbed.ts";
import { parseTopology } from "../../testbed/topology.ts";
import { waitFullReachability } from "../../testbed/traffic.ts";

Deno.test("fast liveness enabled without the helper binary is a ConfigError naming build:native", async () => {
  const config = configSchema.parse({
    mesh: {
      router_address: "10.255.9.1",
      interfaces: [],
      install_routes: false,
      fast_liveness: { enabled: true },
    },
  });
  await assert.rejects(
    startNativeMesh(config, { nodeId: "n1", livenessBinary: "/nonexistent/x0-liveness" }),
    (err) => err instanceof ConfigError && /deno task build:native/.test(err.message),
  );
});

Deno.test("mesh.fast_liveness rejects timers where one lost hello could flap", () => {
  const r = configSchema.safeParse({ mesh: { fast_liveness: { interval_ms: 20, dead_ms: 30 } } });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0].path, ["mesh", "fast_liveness", "dead_ms"]);
});

Deno.test("a silent cut reroutes through the liveness helper before the probes notice", async (t) => {
  const missing = await missingForNetns();
  if (missing) return skipOrFail(`fast liveness agent test needs ${missing}`);
  await ensureLivenessBinary();
  const dir = await Deno.makeTempDir({ prefix: "x0-fastlv-" });
  const stateFile = `${dir}/state.json`;
  const PROBE_DEAD_MS = 1000;
  try {
    const state = await testbedUp(parseTopology("ring:4"), {
      stateFile,
      config: { identity: { mesh_mtls: true } },
      mesh: {
        probe_interval_ms: 100,
        dead_probes: PROBE_DEAD_MS / 100,
        fast_liveness: { enabled: true, interval_ms: 10, dead_ms: 40 },
      },
    });
    const r1 = router(state, "r1"), r2 = router(state, "r2");
    const devTo = async (dest: string) => {
      const out = await nsRun(r1.netns, ["ip", "-4", "route", "get", dest]);
      return / dev (\S+)/.exec(out.stdout)?.[1] ?? null;
    };
    const log = () => Deno.readTextFile(`${state.dir}/r1/agent.log`);

    await t.step("converges, with the helper up on every link (authenticated)", async () => {
      assert.deepEqual((await waitFullReachability(state, { timeoutMs: 30_000 })).failing, []);
      assert.ok(await waitFor(async () => (await devTo(r2.router_address)) === "to-r2", 5000));
      assert.ok(
        await waitFor(async () => /Fast liveness: 10\.\S+ up/.test(await log()), 5000),
        "r1's helper reported no neighbour up",
      );
      assert.doesNotMatch(await log(), /UNAUTHENTICATED/);
      // First adjacencies are on probation (4x the probe dead interval) for 3 s.
      await new Promise((r) => setTimeout(r, 3500));
    });

    await t.step("a silent cut moves r1's route to r2 off the link within 400 ms", async () => {
      const before = (await log()).length;
      const cutAt = performance.now();
      await cut(state, "r1", "r2");
      let movedAt = 0;
      while (performance.now() - cutAt < 3000) {
        const dev = await devTo(r2.router_address);
        if (dev !== null && dev !== "to-r2") {
          movedAt = performance.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(movedAt > 0, "route never moved");
      const ms = movedAt - cutAt;
      assert.ok(
        ms < 400,
        `route moved ${ms.toFixed(0)} ms after the cut (probes: ${PROBE_DEAD_MS})`,
      );
      // This cut's lines only: the helper's down first, then the fast reroute it triggered.
      const text = (await log()).slice(before);
      const down = text.search(/Fast liveness: \S+ down/);
      const reroute = text.indexOf("Fast reroute");
      const lines = text.split("\n").filter((l) => /Fast |OFFLINE/.test(l)).map((l) =>
        /"message":"([^"]*)"/.exec(l)?.[1]
      );
      assert.ok(
        down >= 0 && reroute > down,
        `helper down, then fast reroute: ${lines.join(" | ")}`,
      );
    });

    await t.step("restored, the direct path returns", async () => {
      await restore(state, "r1", "r2");
      assert.ok(await waitFor(async () => (await devTo(r2.router_address)) === "to-r2", 10_000));
    });
  } finally {
    await testbedDown(stateFile);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
