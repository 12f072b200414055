import assert from "node:assert/strict";
import { runCli, startAgentProcess } from "../helpers/agent_process.ts";

Deno.test("server stops startup on an invalid value, naming key, value and expectation", async (t) => {
  await t.step("from a flag", async () => {
    const r = await runCli(["server", "--port", "http", "--data-dir", "/tmp/x0-never"]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /Invalid config value for port: "http" \(from flag --port\): /);
  });
  await t.step("from the environment", async () => {
    const r = await runCli(["server"], { env: { X0_LOG_LEVEL: "chatty" } });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /log_level: "chatty" \(from env X0_LOG_LEVEL\)/);
  });
  await t.step("from a config file", async () => {
    const file = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(file, JSON.stringify({ shutdown_timeout_ms: 5 }));
    const r = await runCli(["server", "--config", file]);
    await Deno.remove(file);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /shutdown_timeout_ms: 5 \(from file .*\): Too small/);
  });
});

Deno.test("server uses file < env < flag precedence for real", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify({ node_id: "from-file", log_level: "debug" }));
  const agent = await startAgentProcess(["--config", file], { env: { X0_NODE_ID: "from-env" } });
  try {
    const body = await (await fetch(`${agent.url}/health`)).json();
    assert.equal(body.node_id, "from-env");
  } finally {
    await agent.stop();
    await Deno.remove(file);
    await Deno.remove(agent.dataDir, { recursive: true });
  }
  assert.match(agent.logs(), /"level":"DEBUG"/, "log level from the file took effect");
});

Deno.test("server keeps its generated node id across restarts (kept in the data dir)", async () => {
  const first = await startAgentProcess();
  const id1 = (await (await fetch(`${first.url}/health`)).json()).node_id;
  await first.stop();
  const second = await startAgentProcess([], { dataDir: first.dataDir });
  try {
    const id2 = (await (await fetch(`${second.url}/health`)).json()).node_id;
    assert.equal(id2, id1);
  } finally {
    await second.stop();
    await Deno.remove(first.dataDir, { recursive: true });
  }
});

Deno.test("server exits 0 within 5 s of SIGINT and SIGTERM and logs JSON lines", async (t) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    await t.step(signal, async () => {
      const agent = await startAgentProcess();
      const t0 = performance.now();
      const status = await agent.stop(signal);
      const elapsed = performance.now() - t0;
      await Deno.remove(agent.dataDir, { recursive: true });
      assert.equal(status.code, 0);
      assert.ok(elapsed < 5000, `stopped in ${elapsed} ms`);
      const lines = agent.logs().trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.message.includes("Agent stopped")));
      assert.ok(lines.every((l) => typeof l["@timestamp"] === "string" && l.level));
    });
  }
});
