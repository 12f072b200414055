import assert from "node:assert/strict";
import { freePort } from "../helpers/agent_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("`deno task start --port P` serves /health with 200 within 5 s on embedded defaults", async () => {
  const port = freePort();
  const hadData = await Deno.stat(`${ROOT}data`).then(() => true, () => false);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--port", String(port)],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const t0 = performance.now();
  let body: Record<string, unknown> | undefined;
  try {
    while (performance.now() - t0 < 5000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        assert.equal(res.status, 200);
        body = await res.json();
        break;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(body, "no /health answer within 5 s");
    assert.equal(body.status, "ok");
    assert.match(String(body.node_id), /^node-/);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    const stderr = new TextDecoder().decode(
      (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
    );
    if (!hadData) await Deno.remove(`${ROOT}data`, { recursive: true }).catch(() => {});
    assert.ok(status.code === 0 || status.signal === "SIGTERM", stderr);
  }
});
