/**
 * `testbed up|status|cut|restore|kill|down` end to end through main.ts, on a 3-router line
 * (the real agents run; every namespace is removed at the end, also on failure).
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/agent_process.ts";
import { missingForNetns, skipOrFail } from "../testbed/harness.ts";
import { listNetns } from "../testbed/netns.ts";
import { testbedDown } from "../testbed/testbed.ts";

Deno.test("testbed CLI rejects bad input without creating anything", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0-tbcli-" });
  const state = `${dir}/state.json`;
  try {
    await t.step("unknown topology", async () => {
      const r = await runCli(["testbed", "up", "blob:3", "--state", state]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Unknown topology spec or unreadable file: blob:3/);
    });
    await t.step("status with no testbed", async () => {
      const r = await runCli(["testbed", "status", "--json", "--state", state]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No testbed is up/);
    });
    await t.step("down with no testbed is a no-op", async () => {
      const r = await runCli(["testbed", "down", "--json", "--state", state]);
      assert.equal(r.code, 0);
      assert.deepEqual(JSON.parse(r.stdout), { removed: [] });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("testbed CLI drives a 3-router line", async (t) => {
  const missing = await missingForNetns();
  if (missing) return skipOrFail(`testbed CLI test needs ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "x0-tbcli-" });
  const state = `${dir}/state.json`;
  const cli = (...args: string[]) => runCli(["testbed", ...args, "--state", state]);
  try {
    let prefix = "";
    await t.step("up prints the status document", async () => {
      const r = await cli("up", "line:3", "--json");
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.routers.length, 3);
      for (const router of doc.routers) {
        assert.match(router.netns, /^x0tb[0-9a-f]{4}-r\d$/);
        assert.match(router.router_address, /^10\.255\.0\.\d+$/);
        assert.match(router.api, /^http:\/\//);
        const health = await fetch(`${router.api}/health`);
        await health.body?.cancel();
      }
      prefix = doc.routers[0].netns.split("-")[0];
      assert.deepEqual(
        doc.links.map((l: { a: string; b: string; up: boolean }) => [l.a, l.b, l.up]),
        [
          ["r1", "r2", true],
          ["r2", "r3", true],
        ],
      );
    });
    await t.step("up refuses a second testbed on the same state file", async () => {
      const r = await cli("up", "line:2");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /already up/);
    });
    await t.step("cut, cut --carrier and restore show in status", async () => {
      assert.equal((await cli("cut", "r1", "r2")).code, 0);
      assert.equal((await cli("cut", "--carrier", "r3", "r2")).code, 0);
      const doc = JSON.parse((await cli("status", "--json")).stdout);
      assert.deepEqual(doc.links.map((l: { up: boolean }) => l.up), [false, false]);
      assert.equal((await cli("restore", "r1", "r2")).code, 0);
      assert.equal((await cli("restore", "r2", "r3")).code, 0);
      const after = JSON.parse((await cli("status", "--json")).stdout);
      assert.deepEqual(after.links.map((l: { up: boolean }) => l.up), [true, true]);
    });
    await t.step("cut of a link that does not exist fails clearly", async () => {
      const r = await cli("cut", "r1", "r3");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No link between r1 and r3/);
    });
    await t.step("kill stops a router", async () => {
      assert.equal((await cli("kill", "r3")).code, 0);
      const doc = JSON.parse((await cli("status", "--json")).stdout);
      assert.equal(doc.routers[2].up, false);
    });
    await t.step("down removes every namespace", async () => {
      const r = await cli("down", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).removed.length, 3);
      assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`${prefix}-`)), []);
    });
  } finally {
    await testbedDown(state);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
