/**
 * Yggdrasil on the real thing: three `yggdrasil` 0.4.x daemons (the Debian package) in network
 * namespaces, peered over veth with TCP listeners in a line a - b - c. The adapter's view of
 * each node must match `yggdrasilctl -json getSelf` / `getPeers`; a real agent process with
 * `mesh.backend: "yggdrasil"` must serve /mesh/status, /mesh/peers and /mesh/routes from it;
 * stopping a daemon must show up as a lost peer within one poll interval.
 */
import assert from "node:assert/strict";
import { createYggdrasilClient } from "../../core/adapters/yggdrasil/admin_client.ts";
import { adminRequest } from "../../core/adapters/yggdrasil/admin_socket.ts";
import { parseAdminEndpoint } from "../../core/adapters/yggdrasil/endpoint.ts";
import { yggdrasilSnapshot } from "../../core/adapters/yggdrasil/yggdrasil_snapshot.ts";
import { createFabricView } from "../../core/adapters/fabric_view.ts";
import { openFabricSource } from "../../core/adapters/fabric_source.ts";
import { UnavailableError } from "../../core/errors.ts";
import { runCli, startAgentProcess } from "../helpers/agent_process.ts";
import {
  cleanup,
  ctl,
  type CtlPeer,
  missingTools,
  type Node,
  NODES,
  PREFIX,
  setLogDir,
  spawnYggdrasil,
  startMesh,
  stopDaemon,
  until,
} from "./yggdrasil_nodes.ts";

const POLL_MS = 500;

Deno.test({
  name: "yggdrasil adapter against three real daemons in network namespaces",
  // yggdrasilctl and ip are awaited child processes; the agent helper owns its own resources
  sanitizeResources: true,
  sanitizeOps: true,
}, async (t) => {
  const missing = await missingTools();
  if (missing) {
    if (Deno.env.get("CI") === "true") assert.fail(`yggdrasil testbed cannot run: ${missing}`);
    console.warn(`\n!!! SKIP yggdrasil testbed: missing ${missing} !!!\n`);
    return;
  }
  const dir = Deno.makeTempDirSync({ prefix: "x0f9-ygg-" });
  setLogDir(dir);
  const daemons = await startMesh(dir).catch(async (err) => {
    await cleanup(new Map(), dir);
    throw err;
  });
  const d = (n: Node) => daemons.get(n)!;
  try {
    await until("b to peer with a and c", async () => {
      const peers = (await ctl(d("b"), "getPeers")).peers as CtlPeer[];
      return peers.length === 2;
    });

    for (const n of NODES) {
      await t.step(`node ${n}: getSelf and getPeers match yggdrasilctl`, async () => {
        const self = await ctl(d(n), "getSelf");
        const before = (await ctl(d(n), "getPeers")).peers as CtlPeer[];
        const client = createYggdrasilClient(d(n).endpoint);
        const tables = await client.readAll();
        const after = (await ctl(d(n), "getPeers")).peers as CtlPeer[];
        assert.equal(tables.self.key, self.key);
        assert.equal(tables.self.address, self.address);
        assert.equal(tables.self.subnet, self.subnet);
        const ids = (ps: { key: string; address: string; port: number; remote: string }[]) =>
          ps.map((p) => `${p.key} ${p.address} ${p.port} ${p.remote}`).sort();
        assert.deepEqual(ids(tables.peers), ids(before));
        assert.deepEqual(ids(before), ids(after));
        for (const p of tables.peers) {
          const b = before.find((x) => x.key === p.key)!, a = after.find((x) => x.key === p.key)!;
          assert.ok(b.bytes_sent <= p.bytes_sent && p.bytes_sent <= a.bytes_sent, "bytes_sent");
          assert.ok(
            b.bytes_recvd <= p.bytes_recvd && p.bytes_recvd <= a.bytes_recvd,
            "bytes_recvd",
          );
        }
        assert.equal(tables.peers.length, n === "b" ? 2 : 1);
        const dht = (await ctl(d(n), "getDHT")).dht as unknown[];
        const snap = yggdrasilSnapshot(tables, Date.now());
        assert.ok(Math.abs(snap.known_nodes - dht.length) <= 1, "DHT size");
        assert.deepEqual(snap.neighbours.map((p) => p.id).sort(), before.map((p) => p.key).sort());
      });
    }

    await t.step(
      "fabric show --json prints node b's self and peers as yggdrasilctl has them",
      async () => {
        const self = await ctl(d("b"), "getSelf");
        const peers = (await ctl(d("b"), "getPeers")).peers as CtlPeer[];
        const out = await runCli([
          "fabric",
          "show",
          "--backend",
          "yggdrasil",
          "--endpoint",
          d("b").endpoint,
          "--json",
        ], {
          permissions: ["--allow-net", "--allow-read", "--allow-write"],
        });
        assert.equal(out.code, 0, out.stderr);
        const doc = JSON.parse(out.stdout);
        assert.equal(doc.self.id, self.key);
        assert.equal(doc.self.address, self.address);
        assert.equal(doc.self.subnet, self.subnet);
        assert.deepEqual(
          doc.peers.map((p: { id: string; address: string }) => `${p.id} ${p.address}`).sort(),
          peers.map((p) => `${p.key} ${p.address}`).sort(),
        );
        for (const p of doc.peers) {
          assert.deepEqual(Object.keys(p).sort(), ["address", "id"], "0.4.7 reports no latency");
        }
      },
    );

    await t.step("a TCP admin endpoint works too (CLI run inside node a's namespace)", async () => {
      const conf = JSON.parse(Deno.readTextFileSync(`${dir}/a.json`));
      conf.AdminListen = "tcp://127.0.0.1:19001";
      Deno.writeTextFileSync(`${dir}/a-tcp.json`, JSON.stringify(conf));
      // a second daemon with the same key would confuse the mesh: stop a, restart it on TCP
      await stopDaemon(d("a"));
      const child = spawnYggdrasil(dir, "a", `${dir}/a-tcp.json`);
      daemons.set("a", { ...d("a"), endpoint: "tcp://127.0.0.1:19001", child, stopped: false });
      const run = () =>
        new Deno.Command("ip", {
          args: [
            "netns",
            "exec",
            `${PREFIX}a`,
            Deno.execPath(),
            "run",
            "--allow-net",
            "main.ts",
            "fabric",
            "show",
            "--backend",
            "yggdrasil",
            "--endpoint",
            "tcp://127.0.0.1:19001",
            "--json",
          ],
          cwd: new URL("../../", import.meta.url).pathname,
          stdout: "piped",
          stderr: "piped",
        }).output();
      let doc: { self: { id: string }; peers: unknown[] } | null = null;
      await until("a to answer on TCP with its peer b", async () => {
        const out = await run();
        if (!out.success) return false;
        doc = JSON.parse(new TextDecoder().decode(out.stdout));
        return doc!.peers.length === 1;
      });
      assert.equal(doc!.self.id, conf.PublicKey);
    });

    await t.step("the real daemon refuses a bad request with its reason", async () => {
      await assert.rejects(
        adminRequest(parseAdminEndpoint(d("b").endpoint), "getNodeInfo"),
        (e) => e instanceof UnavailableError && /^Yggdrasil refused getNodeInfo: /.test(e.message),
      );
      await assert.rejects(
        adminRequest(parseAdminEndpoint(d("b").endpoint), "x0NoSuchRequest"),
        (e) => e instanceof UnavailableError && /Unknown action/i.test(e.message),
      );
    });

    await t.step(
      "a real agent with backend yggdrasil serves /mesh/* from node b and sees c lost within one poll",
      async () => {
        const config = `${dir}/agent.json`;
        Deno.writeTextFileSync(
          config,
          JSON.stringify({
            node_id: "x0y-agent-b",
            mesh: { backend: "yggdrasil", endpoint: d("b").endpoint, fabric_poll_ms: POLL_MS },
          }),
        );
        const agent = await startAgentProcess(["--config", config]);
        try {
          const get = async (path: string) => {
            const res = await fetch(`${agent.url}${path}`);
            assert.equal(res.status, 200, path);
            return await res.json();
          };
          const self = await ctl(d("b"), "getSelf");
          const peers = (await ctl(d("b"), "getPeers")).peers as CtlPeer[];
          const status = await get("/mesh/status");
          assert.deepEqual(
            [
              status.backend,
              status.state,
              status.router_address,
              status.neighbours,
              status.node_id,
            ],
            ["yggdrasil", "converged", self.address, 2, "x0y-agent-b"],
          );
          const { peers: apiPeers } = await get("/mesh/peers") as {
            peers: {
              id: string;
              address: string;
              state: string;
              interface: string;
            }[];
          };
          assert.deepEqual(
            apiPeers.map((p) => `${p.id} ${p.address} ${p.state}`).sort(),
            peers.map((p) => `${p.key} ${p.address} ONLINE`).sort(),
          );
          const { routes } = await get("/mesh/routes") as {
            routes: {
              destination: string;
              next_hop: string;
              cost: number;
            }[];
          };
          for (const p of peers) {
            assert.ok(
              routes.some((r) =>
                r.destination === p.address && r.next_hop === p.address && r.cost === 1
              ),
            );
          }
          // stop c: b's daemon drops the peer at once; the agent must report it within one poll
          const cKey = JSON.parse(Deno.readTextFileSync(`${dir}/c.json`)).PublicKey;
          const stoppedAt = performance.now();
          await stopDaemon(d("c"));
          const stopMs = performance.now() - stoppedAt;
          let seenAfter = 0;
          await until(
            "the agent to report c lost",
            async () => {
              const { peers: ps } = await get("/mesh/peers") as {
                peers: { id: string; state: string }[];
              };
              seenAfter = performance.now() - stoppedAt;
              return ps.some((p) => p.id === cKey && p.state === "OFFLINE");
            },
            10_000,
            10,
          );
          console.log(
            `lost peer reported ${Math.round(seenAfter)} ms after stopping c (daemon exit took ${
              Math.round(stopMs)
            } ms, poll ${POLL_MS} ms)`,
          );
          assert.ok(seenAfter <= stopMs + POLL_MS + 100, `took ${Math.round(seenAfter)} ms`);
          const after = await get("/mesh/status");
          assert.equal(after.neighbours, 1);
          const metrics = await (await fetch(`${agent.url}/metrics`)).text();
          assert.match(metrics, /fabric_peers_lost_total\{backend="yggdrasil"\} 1/);
        } finally {
          const st = await agent.stop();
          assert.equal(st.code, 0, agent.logs());
        }
      },
    );

    await t.step(
      "in process: link samples for the MAPE-K monitor mark a stopped daemon's link down",
      async () => {
        // c is stopped now; restart it and watch b's link to it come back, then go away again
        const child = spawnYggdrasil(dir, "c", `${dir}/c.json`);
        daemons.set("c", { ...d("c"), child, stopped: false });
        const source = openFabricSource({ backend: "yggdrasil", endpoint: d("b").endpoint });
        const view = createFabricView(() => source.read(), { backend: "yggdrasil", nodeId: "b" });
        const cKey = JSON.parse(Deno.readTextFileSync(`${dir}/c.json`)).PublicKey;
        await until("c to be b's peer again", async () => {
          await view.poll();
          return view.linkSamples().some((s) => s.peer === cKey && s.up);
        });
        const sample = view.linkSamples().find((s) => s.peer === cKey)!;
        assert.ok(sample.bytes_sent !== null && sample.bytes_recvd !== null);
        await stopDaemon(d("c"));
        await until("b to drop c", async () => {
          await view.poll();
          return view.linkSamples().some((s) => s.peer === cKey && !s.up);
        }, 5000);
        assert.equal(view.topology().links.length, 1);
        source.close();
      },
    );

    await t.step("a stopped daemon's socket gives a clear error", async () => {
      await assert.rejects(
        createYggdrasilClient(d("c").endpoint).getSelf(),
        (e) =>
          e instanceof UnavailableError &&
          /^Yggdrasil admin socket (not found|refused the connection)/.test(e.message),
      );
      const out = await runCli([
        "fabric",
        "show",
        "--backend",
        "yggdrasil",
        "--endpoint",
        d("c").endpoint,
        "--json",
      ]);
      assert.equal(out.code, 1);
      assert.equal(out.stdout, "");
      assert.match(
        out.stderr.trim(),
        /^Yggdrasil admin socket (not found|refused the connection): unix:\/\//,
      );
      assert.equal(out.stderr.trim().split("\n").length, 1);
    });
  } finally {
    await cleanup(daemons, dir);
  }
});
