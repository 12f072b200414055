import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { startAgentProcess } from "../helpers/agent_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function run(entry: string, args: string[], permissions: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, `${ROOT}bin/${entry}`, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the three installed names work: x0tta6bl4, x0tta6bl4-server, x0tta6bl4-health", async (t) => {
  await t.step("x0tta6bl4 --version and --help", async () => {
    const v = await run("x0tta6bl4.ts", ["--version"], ["--allow-env=X0_URL"]);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), denoJson.version);
    const h = await run("x0tta6bl4.ts", ["--help"], ["--allow-env=X0_URL"]);
    assert.equal(h.code, 0);
    for (const cmd of ["server", "health", "status"]) {
      assert.match(h.stdout, new RegExp(`\\b${cmd}\\b`));
    }
  });
  await t.step("x0tta6bl4-server --help lists the server flags", async () => {
    const h = await run("x0tta6bl4_server.ts", ["--help"], ["--allow-env=X0_URL"]);
    assert.equal(h.code, 0);
    for (const flag of ["--host", "--port", "--data-dir", "--config", "--log-level"]) {
      assert.ok(h.stdout.includes(flag), flag);
    }
  });
  await t.step("every command has --help", async () => {
    for (const cmd of ["server", "health", "status"]) {
      const h = await run("x0tta6bl4.ts", [cmd, "--help"], ["--allow-env=X0_URL"]);
      assert.equal(h.code, 0, cmd);
      assert.match(h.stdout, /^Usage: x0tta6bl4 /);
    }
  });
  const agent = await startAgentProcess();
  try {
    await t.step("x0tta6bl4-health with only --allow-net and --allow-env=X0_URL", async () => {
      const r = await run("x0tta6bl4_health.ts", ["--url", agent.url], [
        "--allow-net=127.0.0.1",
        "--allow-env=X0_URL",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok /);
    });
  } finally {
    await agent.stop();
    await Deno.remove(agent.dataDir, { recursive: true });
  }
  await t.step("x0tta6bl4-health exits 2 once the agent is gone", async () => {
    const r = await run("x0tta6bl4_health.ts", ["--url", agent.url], [
      "--allow-net=127.0.0.1",
      "--allow-env=X0_URL",
    ]);
    assert.equal(r.code, 2);
  });
});
