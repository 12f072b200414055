import assert from "node:assert/strict";
import { freePort, runCli, startAgentProcess } from "../helpers/agent_process.ts";

Deno.test("health exits 0 against a running agent and 2 after it stops", async (t) => {
  const agent = await startAgentProcess();
  try {
    await t.step("healthy agent: exit 0 and a one-line summary", async () => {
      const r = await runCli(["health", "--url", agent.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok node=node-[0-9a-f]+ version=\d+\.\d+\.\d+ uptime=/);
    });
    await t.step("--json prints the /health body", async () => {
      const r = await runCli(["health", "--url", agent.url, "--json"]);
      assert.equal(r.code, 0);
      const body = JSON.parse(r.stdout);
      assert.equal(body.status, "ok");
      assert.equal(typeof body.uptime_s, "number");
    });
    await t.step("status reports the standalone node", async () => {
      const r = await runCli(["status", "--url", agent.url, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.mesh.state, "standalone");
      assert.deepEqual(report.peers, []);
    });
  } finally {
    const status = await agent.stop("SIGTERM");
    assert.equal(status.code, 0, agent.logs());
    await Deno.remove(agent.dataDir, { recursive: true });
  }
  await t.step("stopped agent: exit 2 and the reason on one stderr line", async () => {
    const r = await runCli(["health", "--url", agent.url]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /^Cannot reach agent at http:\/\/127\.0\.0\.1:\d+: /);
  });
  await t.step("status on a stopped agent: exit 2", async () => {
    const r = await runCli(["status", "--url", agent.url]);
    assert.equal(r.code, 2);
  });
});

Deno.test("health exits 1 when the agent is degraded (a configured interface is missing)", async () => {
  const agent = await startAgentProcess([], { env: { X0_MESH__INTERFACES: "x0nosuchif9" } });
  try {
    const r = await runCli(["health", "--url", agent.url, "--json"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.status, "degraded");
    assert.deepEqual(body.reasons, ["interfaces: configured interface not found: x0nosuchif9"]);
  } finally {
    await agent.stop();
    await Deno.remove(agent.dataDir, { recursive: true });
  }
});

Deno.test("health exits 2 when something that is not the agent answers", async () => {
  const port = freePort();
  const ac = new AbortController();
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
    () => new Response("<html>proxy error</html>", { status: 502 }),
  );
  try {
    const r = await runCli(["health", "--url", `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /status 502 and a body that is not JSON/);
  } finally {
    ac.abort();
    await server.finished;
  }
});
