import assert from "node:assert/strict";
import { createFabricView, tqQuality } from "../../../core/adapters/fabric_view.ts";
import type { FabricPeer, FabricSnapshot } from "../../../core/adapters/fabric_snapshot.ts";
import { snapshotJson, snapshotTopology } from "../../../core/adapters/fabric_snapshot.ts";

const peer = (id: string, extra: Partial<FabricPeer> = {}): FabricPeer => ({
  id,
  address: `addr-${id}`,
  direct: true,
  interface: "eth0",
  ...extra,
});

const snap = (at: number, ids: string[], extra: Partial<FabricPeer> = {}): FabricSnapshot => ({
  backend: "yggdrasil",
  at,
  self: { id: "me", address: "addr-me", details: { subnet: "300::/64" } },
  peers: ids.map((i) => peer(i, extra)),
  neighbours: ids.map((i) => peer(i, extra)),
  routes: ids.map((i) => ({
    destination: `addr-${i}`,
    next_hop: `addr-${i}`,
    interface: "eth0",
    cost: 1,
    backup_next_hop: null,
    backup_interface: null,
    path: ["me", i],
  })),
  known_nodes: ids.length + 5,
});

Deno.test("createFabricView() serves status, peers and routes from the latest read", async () => {
  const clock = 1_000_000;
  const reads: (FabricSnapshot | Error)[] = [snap(clock, ["a", "b"], { bytes_sent: 5 })];
  const view = createFabricView(() => {
    const r = reads.shift()!;
    if (r instanceof Error) throw r;
    return r;
  }, { backend: "yggdrasil", nodeId: "node-1", now: () => clock });
  assert.equal(view.status().state, "converging");
  assert.deepEqual(view.peers(), []);
  await view.poll();
  assert.deepEqual(view.status(), {
    node_id: "node-1",
    router_address: "addr-me",
    backend: "yggdrasil",
    state: "converged",
    neighbours: 2,
    routes: 2,
    lsa_db_size: 7,
  });
  assert.deepEqual(view.peers().map((p) => [p.id, p.state]), [["a", "ONLINE"], ["b", "ONLINE"]]);
  assert.equal(view.routes().length, 2);
  assert.deepEqual(view.linkSamples().map((s) => [s.peer, s.up, s.bytes_sent]), [
    ["a", true, 5],
    ["b", true, 5],
  ]);
});

Deno.test("a neighbour missing from the next read is reported as a lost peer", async (t) => {
  let clock = 0;
  const reads: (FabricSnapshot | Error)[] = [
    snap(1000, ["a", "b"]),
    snap(2000, ["a"]),
    new Error("Yggdrasil admin socket not found: unix:///x"),
    snap(4000, ["a", "b"]),
  ];
  const view = createFabricView(() => {
    const r = reads.shift()!;
    if (r instanceof Error) throw r;
    return r;
  }, { backend: "yggdrasil", nodeId: "n", lostRetentionMs: 60_000, now: () => clock });
  await t.step("lost between two reads: OFFLINE, last seen at the earlier read", async () => {
    clock = 1000;
    await view.poll();
    clock = 2000;
    await view.poll();
    const b = view.peers().find((p) => p.id === "b")!;
    assert.equal(b.state, "OFFLINE");
    assert.equal(b.last_seen, new Date(1000).toISOString());
    assert.equal(view.status().neighbours, 1);
    assert.deepEqual(view.linkSamples().map((s) => [s.peer, s.up]), [["a", true], ["b", false]]);
  });
  await t.step("a failed read isolates the node and marks every link down", async () => {
    clock = 3000;
    await assert.rejects(view.poll(), /admin socket not found/);
    assert.equal(view.lastError(), "Yggdrasil admin socket not found: unix:///x");
    assert.equal(view.status().state, "isolated");
    assert.equal(view.status().neighbours, 0);
    assert.deepEqual(view.routes(), []);
    assert.ok(view.peers().every((p) => p.state === "OFFLINE"));
    assert.ok(view.linkSamples().every((s) => !s.up));
  });
  await t.step("a peer that comes back is ONLINE again and no longer lost", async () => {
    clock = 4000;
    await view.poll();
    assert.equal(view.lastError(), null);
    assert.deepEqual(view.peers().map((p) => [p.id, p.state]), [["a", "ONLINE"], ["b", "ONLINE"]]);
  });
});

Deno.test("lost peers are forgotten after the retention period", async () => {
  let clock = 0;
  const reads = [snap(0, ["a", "b"]), snap(10, ["a"])];
  const view = createFabricView(() => reads.shift()!, {
    backend: "batman",
    nodeId: "n",
    lostRetentionMs: 100,
    now: () => clock,
  });
  await view.poll();
  clock = 10;
  await view.poll();
  assert.equal(view.peers().length, 2);
  clock = 200;
  assert.deepEqual(view.peers().map((p) => p.id), ["a"]);
});

Deno.test("TQ maps to a loss estimate and a quality class", async () => {
  const view = createFabricView(() => snap(0, ["a"], { tq: 255 }), {
    backend: "batman",
    nodeId: "n",
  });
  await view.poll();
  assert.equal(view.peers()[0].loss_percent, 0);
  assert.equal(view.peers()[0].quality, "EXCELLENT");
  assert.deepEqual([255, 230, 229, 180, 128, 64, 63, 0].map(tqQuality), [
    "EXCELLENT",
    "EXCELLENT",
    "GOOD",
    "GOOD",
    "FAIR",
    "POOR",
    "BAD",
    "BAD",
  ]);
});

Deno.test("snapshotJson() prints only the contract fields the backend knows", () => {
  const s = snap(0, ["a"], { tq: 200, bytes_sent: 9, uptime_s: 3 });
  const doc = snapshotJson(s);
  assert.deepEqual(doc.self, {
    id: "me",
    address: "addr-me",
    backend: "yggdrasil",
    subnet: "300::/64",
  });
  assert.deepEqual(doc.peers, [{ id: "a", address: "addr-a", tq: 200 }]);
  const topo = snapshotTopology(s);
  assert.deepEqual(topo.nodes.map((n) => [n.id, n.self]), [["me", true], ["a", false]]);
  assert.deepEqual(topo.links, [{
    from: "me",
    to: "a",
    interface: "eth0",
    latency_ms: null,
    tq: 200,
    throughput_kbps: null,
    bytes_sent: 9,
    bytes_recvd: null,
  }]);
});
