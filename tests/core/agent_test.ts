import assert from "node:assert/strict";
import { startAgent } from "../../core/agent.ts";
import { defaultConfig } from "../../core/config/schema.ts";
import { createApp } from "../../routes/app.ts";

Deno.test("stop() lets an in-flight request finish, stops tasks and closes KV within 5 s", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "x0-agent-" });
  const config = { ...defaultConfig(), port: 0, data_dir: dataDir, shutdown_timeout_ms: 5000 };
  let requestStarted!: () => void;
  const started = new Promise<void>((r) => requestStarted = r);
  let taskRuns = 0;
  const agent = await startAgent(config, {
    app: (deps) => {
      deps.scheduler.add({ name: "test-tick", intervalMs: 10, run: () => void taskRuns++ });
      const app = createApp(deps);
      app.get("/slow", async (c) => {
        requestStarted();
        await new Promise((r) => setTimeout(r, 700));
        return c.json({ done: true });
      });
      return app;
    },
  });
  const inflight = fetch(`${agent.url}/slow`);
  await started;
  const t0 = performance.now();
  const stopping = agent.stop("test");
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { done: true });
  await stopping;
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 600, `waited for the request (${elapsed} ms)`);
  assert.ok(elapsed < 5000, `stopped within 5 s (${elapsed} ms)`);
  assert.ok(taskRuns > 0);
  const runsAtStop = taskRuns;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(taskRuns, runsAtStop, "no task runs after stop");
  await assert.rejects(() => agent.kv.get(["node", "id"]), /closed|resource/i);
  await assert.rejects(() => fetch(`${agent.url}/health`));
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("stop() gives up waiting after the shutdown timeout", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "x0-agent-" });
  const config = { ...defaultConfig(), port: 0, data_dir: dataDir, shutdown_timeout_ms: 300 };
  let release!: () => void;
  const hang = new Promise<void>((r) => release = r);
  let started!: () => void;
  const inHandler = new Promise<void>((r) => started = r);
  const agent = await startAgent(config, {
    app: (deps) => {
      const app = createApp(deps);
      app.get("/hang", async (c) => {
        started();
        await hang;
        return c.text("late");
      });
      return app;
    },
  });
  const inflight = fetch(`${agent.url}/hang`).then((r) => r.text()).catch(() => "aborted");
  await inHandler;
  const t0 = performance.now();
  await agent.stop("test");
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 250 && elapsed < 2000, `gave up after ~300 ms (${elapsed} ms)`);
  release();
  await inflight;
  await Deno.remove(dataDir, { recursive: true });
});
