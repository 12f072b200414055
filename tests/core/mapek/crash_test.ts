/**
 * The real agent (`main.ts server`) supervises a service, heals its kill, and keeps the incident
 * across `kill -9`: after a restart on the same data dir, GET /incidents/:id returns it whole,
 * and the service orphaned by the crash is replaced rather than left holding its port.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startAgentProcess } from "../../helpers/agent_process.ts";
import { until } from "./helpers.ts";

const SERVICE = new URL("./fixtures/fault_service.ts", import.meta.url).pathname;

async function pids(port: number): Promise<number[]> {
  const out = await new Deno.Command("pgrep", {
    args: ["-f", `fault_service.ts ${port}$`],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
}

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

Deno.test("an incident recorded by the agent survives kill -9 and the orphaned service is replaced on restart", async (t) => {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "x0mk-crash-" });
  const configFile = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      mapek: { cooldown_ms: 1000 },
      services: [{
        name: "web",
        command: [Deno.execPath(), "run", "--allow-net", SERVICE, String(port)],
        http_url: `http://127.0.0.1:${port}/health`,
      }],
    }),
  );
  let agent = await startAgentProcess(["--config", configFile], { dataDir });
  try {
    let incidentId = "";
    let incident: Record<string, unknown> = {};
    await t.step("the agent heals a killed service and records the incident", async () => {
      const [first] = await until(
        async () => {
          const p = await pids(port);
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          await res.body?.cancel();
          return res.ok && p.length === 1 ? p : undefined;
        },
        15000,
        "the supervised service",
      );
      Deno.kill(first, "SIGKILL");
      incident = await until(
        async () => {
          const { body } = await getJson(`${agent.url}/incidents?type=service_down`);
          return body.incidents.find((i: { outcome: string }) => i.outcome !== "open");
        },
        15000,
        "a finished service_down incident",
      );
      assert.equal(incident.outcome, "recovered");
      assert.equal(incident.target, "web");
      assert.ok(typeof incident.mttr_s === "number");
      incidentId = incident.id as string;
      const after = await pids(port);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], first);
    });

    let orphan = 0;
    await t.step("kill -9 of the agent leaves the incident whole on disk", async () => {
      [orphan] = await pids(port);
      await agent.stop("SIGKILL");
      // The child outlives its killed parent (nothing could stop it).
      assert.deepEqual(await pids(port), [orphan]);
      agent = await startAgentProcess(["--config", configFile], { dataDir });
      const { status, body } = await getJson(`${agent.url}/incidents/${incidentId}`);
      assert.equal(status, 200);
      assert.deepEqual(body, incident);
    });

    await t.step("the restarted agent replaced the orphaned service", async () => {
      const now = await until(
        async () => {
          const p = await pids(port);
          return p.length === 1 && p[0] !== orphan ? p : undefined;
        },
        10000,
        "a fresh service process",
      );
      assert.notEqual(now[0], orphan);
      await until(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          await res.body?.cancel();
          return res.ok ? true : undefined;
        },
        10000,
        "the fresh service to answer",
      );
    });

    await t.step("a graceful stop of the agent stops its services", async () => {
      await agent.stop("SIGTERM");
      await until(
        async () => ((await pids(port)).length === 0 ? true : undefined),
        5000,
        "no service left",
      );
    });
  } finally {
    await agent.stop("SIGKILL");
    for (const pid of await pids(port)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(dataDir, { recursive: true });
  }
});
