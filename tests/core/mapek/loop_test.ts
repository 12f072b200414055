import assert from "node:assert/strict";
import { configSchema } from "../../../core/config/schema.ts";
import { type Mapek, startMapek } from "../../../core/mapek/mod.ts";
import { standaloneMeshView } from "../../../core/mesh/view.ts";
import { freePort } from "../../helpers/agent_process.ts";

const SERVICE = new URL("./fixtures/fault_service.ts", import.meta.url).pathname;

async function withLoop(mapek: Record<string, unknown>, fn: (m: Mapek) => Promise<void>) {
  const port = freePort();
  const config = configSchema.parse({
    mapek: { cooldown_ms: 60_000, ...mapek },
    services: [{
      name: "web",
      command: [Deno.execPath(), "run", "--allow-net", SERVICE, String(port)],
      http_url: `http://127.0.0.1:${port}/health`,
    }],
  });
  const kv = await Deno.openKv(":memory:");
  const m = await startMapek(config, {
    nodeId: "n1",
    kv,
    mesh: standaloneMeshView("n1", null),
    forestFit: null,
  });
  try {
    for (let i = 0; i < 150; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
      await res?.body?.cancel();
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await fn(m);
  } finally {
    await m.stop();
    kv.close();
  }
}

async function kill(m: Mapek) {
  Deno.kill(m.supervisor.status("web")!.pid!, "SIGKILL");
  for (let i = 0; i < 100 && m.supervisor.status("web")!.running; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("a cycle heals a killed supervised service once and records it with MTTR", () =>
  withLoop({}, async (m) => {
    assert.deepEqual(await m.cycle(), []);
    await kill(m);
    const [inc] = await m.cycle();
    assert.equal(inc.type, "service_down");
    assert.equal(inc.outcome, "recovered");
    assert.ok(inc.mttr_s !== null && inc.mttr_s < 5);
    assert.equal(m.supervisor.status("web")!.restarts, 1);
    assert.deepEqual(await m.store.get(inc.id), inc);
    assert.deepEqual(await m.cycle(), []);
  }));

Deno.test("within the cooldown a service that dies again is not acted on again", () =>
  withLoop({}, async (m) => {
    await kill(m);
    assert.equal((await m.cycle()).length, 1);
    await kill(m);
    assert.deepEqual(await m.cycle(), []);
    assert.equal(m.supervisor.status("web")!.restarts, 1);
    assert.equal(m.supervisor.status("web")!.running, false);
  }));

Deno.test("in dry-run mode the loop records what it would do and leaves the service down", () =>
  withLoop({ dry_run: true }, async (m) => {
    await kill(m);
    const [inc] = await m.cycle();
    assert.equal(inc.outcome, "dry_run");
    assert.equal(inc.plan?.dry_run, true);
    assert.deepEqual(inc.actions.map((a) => [a.kind, a.result]), [["restart_service", "dry_run"]]);
    assert.equal(m.supervisor.status("web")!.restarts, 0);
    assert.equal(m.supervisor.status("web")!.running, false);
  }));
