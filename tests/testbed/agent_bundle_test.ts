/**
 * The single-file agent of `deno task build:agent` (scripts/build_agent.ts) on a real 3-router
 * netns line: it builds, it is what the routers run, and everything the agent reads from the
 * checkout beside its code is found from dist/ (WASM core for routes, eBPF objects, runbooks),
 * so the mesh converges through kernel routes exactly as from source.
 */
import assert from "node:assert/strict";
import { missingForNetns, skipOrFail } from "./harness.ts";
import { router, testbedDown, testbedUp } from "./testbed.ts";
import { AGENT_BUNDLE } from "../../core/paths.ts";
import { parseTopology } from "./topology.ts";
import { forwardingPath, waitFullReachability } from "./traffic.ts";
import { buildAgentBundle } from "../../scripts/build_agent.ts";
import { VERSION } from "../../core/version.ts";

const logOf = (dir: string, name: string) => Deno.readTextFileSync(`${dir}/${name}/agent.log`);

Deno.test("agent bundle: builds and runs a 3-router mesh from dist/", async (t) => {
  const path = await buildAgentBundle();
  assert.equal(path, AGENT_BUNDLE);

  await t.step("the bundle is one self-contained module that prints the version", async () => {
    const { size } = await Deno.stat(AGENT_BUNDLE);
    assert.ok(size > 1_000_000, `bundle of ${size} bytes is too small to hold the agent`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", AGENT_BUNDLE, "--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), VERSION);
  });

  const missing = await missingForNetns();
  if (missing) return skipOrFail(`agent bundle mesh test needs ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "x0-bundle-" });
  const stateFile = `${dir}/state.json`;
  try {
    const state = await testbedUp(parseTopology("line:3"), {
      stateFile,
      entry: AGENT_BUNDLE,
      cgroups: false,
    });

    await t.step("every router's agent process runs the bundle", async () => {
      for (const r of state.routers) {
        // (/proc needs --allow-all in Deno 2.9: ask ps)
        const ps = await new Deno.Command("ps", { args: ["-o", "args=", "-p", String(r.pid)] })
          .output();
        const args = new TextDecoder().decode(ps.stdout).trim().split(/\s+/);
        assert.ok(args.includes(AGENT_BUNDLE), `${r.name}: ${args.join(" ")}`);
      }
    });

    await t.step("the mesh converges through kernel routes (WASM core found)", async () => {
      const r = await waitFullReachability(state, { timeoutMs: 20_000 });
      assert.deepEqual(r.failing, []);
      assert.deepEqual(await forwardingPath(state, "r1", "r3"), ["r1", "r2", "r3"]);
    });

    await t.step("runbooks and eBPF objects are found next to dist/", () => {
      for (const r of state.routers) {
        const log = logOf(state.dir, r.name);
        assert.match(log, /Seeded the knowledge base with 1\d runbooks/, r.name);
        assert.match(log, /Attached TC ingress program x0_telemetry_tc/, r.name);
        assert.doesNotMatch(log, /eBPF telemetry not started|not seeded with runbooks/, r.name);
      }
      // The start-up breakdown is logged with the listening line.
      assert.match(logOf(state.dir, router(state, "r2").name), /"phases":\{"load":\d+/);
    });
  } finally {
    await testbedDown(stateFile);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
