/**
 * Per-router cgroups of the netns testbed: each router gets `/<prefix>/<router>` with a CPU
 * quota; a command started with execInRouter runs in the router's namespace and cgroup, so its
 * CPU shows in that router's cgroup only; `down` removes the cgroups even with processes still
 * in them. Also: the agent permission flags stay explicit.
 */
import assert from "node:assert/strict";
import { cgroupDirs, cgroupUsage, detectCgroupHost } from "./cgroups.ts";
import { missingForNetns, skipOrFail } from "./harness.ts";
import { run } from "./netns.ts";
import {
  AGENT_FLAGS,
  agentFlags,
  execInRouter,
  LIVENESS_HELPER,
  router,
  statusDocument,
  testbedDown,
  testbedUp,
} from "./testbed.ts";
import { parseTopology } from "./topology.ts";

Deno.test("agentFlags() grants FFI, ip, the liveness helper and configured programs, never -A", () => {
  assert.ok(AGENT_FLAGS.includes("--allow-ffi"));
  assert.ok(!AGENT_FLAGS.some((f) => f === "-A" || f === "--allow-all" || f === "--allow-run"));
  assert.ok(AGENT_FLAGS.includes(`--allow-run=ip,${LIVENESS_HELPER}`));
  assert.deepEqual(agentFlags({}), AGENT_FLAGS);
  const flags = agentFlags({
    services: [
      { name: "web", command: ["/usr/bin/web", "--port", "80"] },
      { name: "db", process_name: "postgres" },
      { name: "unit", restart: "systemd", command: ["/not/run"] },
    ],
    mapek: { cache_clear_command: ["/usr/local/bin/flush"] },
  });
  assert.ok(
    flags.includes(
      `--allow-run=ip,${LIVENESS_HELPER},/usr/bin/web,pgrep,systemctl,/usr/local/bin/flush`,
    ),
    flags.join(" "),
  );
  assert.equal(flags.filter((f) => f.startsWith("--allow-run")).length, 1);
});

Deno.test("testbed routers get their own cgroups; execInRouter runs inside the router's netns and cgroup; down removes them", async (t) => {
  const missing = await missingForNetns();
  if (missing) return skipOrFail(`testbed cgroup test needs ${missing}`);
  const host = await detectCgroupHost();
  if (!host) return skipOrFail("testbed cgroup test needs a cgroup hierarchy with cpu and memory");
  const dir = await Deno.makeTempDir({ prefix: "x0-tbcg-" });
  const stateFile = `${dir}/state.json`;
  const exists = async (d: string) => (await run("test", ["-d", d])).code === 0;
  let hog: Deno.ChildProcess | undefined;
  try {
    const state = await testbedUp(parseTopology("line:2"), {
      stateFile,
      agent: "none",
      cgroups: { cpu_cores: 0.5, cpu_weight: 2 },
    });
    const r1 = router(state, "r1"), r2 = router(state, "r2");

    await t.step(
      "each router has /<prefix>/<router> in every hierarchy with its limits, shown in status",
      async () => {
        for (const r of [r1, r2]) {
          assert.equal(r.cgroup, `/${state.prefix}/${r.name}`);
          assert.deepEqual(r.cgroup_dirs, cgroupDirs(host, r.cgroup!));
          for (const d of r.cgroup_dirs!) assert.ok(await exists(d), d);
        }
        const cat = async (f: string) => (await run("cat", [f])).stdout.trim();
        const cpuDir = `${host.cpuMount}${r1.cgroup}`;
        if (host.version === 1) {
          assert.equal(await cat(`${cpuDir}/cpu.cfs_quota_us`), "50000");
          assert.equal(await cat(`${cpuDir}/cpu.shares`), "2048");
        } else {
          assert.equal(await cat(`${cpuDir}/cpu.max`), "50000 100000");
          assert.equal(await cat(`${cpuDir}/cpu.weight`), "200");
        }
        assert.deepEqual(statusDocument(state).routers.map((r) => r.cgroup), [
          r1.cgroup,
          r2.cgroup,
        ]);
      },
    );

    await t.step("a command run in r2 is in r2's namespace and cgroup", async () => {
      const p = execInRouter(state, "r2", [
        "sh",
        "-c",
        "cat /proc/self/cgroup; ip -o addr show lo",
      ]);
      const out = await p.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const text = new TextDecoder().decode(out.stdout);
      assert.match(text, new RegExp(`:${r2.cgroup}\\n`));
      assert.ok(text.includes(`${r2.router_address}/32`), text);
    });

    await t.step(
      "a process in a router may ask for SCHED_FIFO (the liveness helper does)",
      async () => {
        const out = await execInRouter(state, "r1", ["chrt", "-f", "10", "true"]).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      },
    );

    await t.step("a busy loop in r2 uses r2's quota, not r1's", async () => {
      hog = execInRouter(state, "r2", ["sh", "-c", "while :; do :; done"], {
        stdout: "null",
        stderr: "null",
      });
      await new Promise((r) => setTimeout(r, 300));
      const [a1, a2] = [await cgroupUsage(host, r1.cgroup!), await cgroupUsage(host, r2.cgroup!)];
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const [b1, b2] = [await cgroupUsage(host, r1.cgroup!), await cgroupUsage(host, r2.cgroup!)];
      const wallUs = (performance.now() - t0) * 1000;
      const cores2 = (b2.cpuUsageUs - a2.cpuUsageUs) / wallUs;
      const cores1 = (b1.cpuUsageUs - a1.cpuUsageUs) / wallUs;
      assert.ok(cores2 > 0.3 && cores2 < 0.6, `r2 used ${cores2} cores (quota 0.5)`);
      assert.ok(cores1 < 0.05, `r1 used ${cores1} cores`);
    });

    await t.step("down removes the cgroups while a process still runs in one", async () => {
      const dirs = [...r1.cgroup_dirs!, ...r2.cgroup_dirs!, ...state.cgroups!.parents];
      await testbedDown(stateFile);
      await hog!.status;
      hog = undefined;
      for (const d of dirs) assert.ok(!(await exists(d)), `${d} still exists`);
    });

    await t.step(
      "after a crash that lost the namespaces, up on the same state file first removes the old cgroups",
      async () => {
        const old = await testbedUp(parseTopology("line:2"), { stateFile, agent: "none" });
        const sleeper = execInRouter(old, "r1", ["sleep", "60"], {
          stdout: "null",
          stderr: "null",
        });
        for (const r of old.routers) await run("ip", ["netns", "del", r.netns]);
        const next = await testbedUp(parseTopology("line:2"), { stateFile, agent: "none" });
        await sleeper.status;
        for (const d of [...router(old, "r1").cgroup_dirs!, ...old.cgroups!.parents]) {
          assert.ok(!(await exists(d)), `${d} still exists`);
        }
        for (const d of router(next, "r1").cgroup_dirs!) assert.ok(await exists(d), d);
      },
    );
  } finally {
    if (hog) {
      try {
        hog.kill("SIGKILL");
      } catch { /* gone */ }
      await hog.status;
    }
    await testbedDown(stateFile);
    await Deno.remove(dir, { recursive: true });
  }
});
