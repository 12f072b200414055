import assert from "node:assert/strict";
import { batmanSnapshot, originatorCost } from "../../../core/adapters/batman/batman_snapshot.ts";
import type { BatmanTables } from "../../../core/adapters/batman/batadv_client.ts";
import type { BatmanOriginator } from "../../../core/adapters/batman/batadv_messages.ts";

const macOf = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, "0")}`;

function tables(originators: BatmanOriginator[], neighbours: number[] = []): BatmanTables {
  return {
    mesh: {
      meshif: "bat0",
      ifindex: 9,
      address: "42:00:00:00:00:01",
      version: "2022.3",
      algo: "BATMAN_IV",
      primary_if: "v1",
      primary_address: macOf(0),
    },
    hardifs: [
      { ifindex: 1, ifname: "v1", address: macOf(0), active: true },
      { ifindex: 2, ifname: "v2", address: "02:00:00:00:01:00", active: true },
    ],
    originators,
    neighbours: neighbours.map((n) => ({
      neighbour: macOf(n),
      hard_ifindex: 1 + ((n + 1) % 2),
      last_seen_ms: 10 * n,
      throughput_kbps: null,
    })),
  };
}

Deno.test("batmanSnapshot() maps the originator table into peers, routes and backups", () => {
  const o = (
    orig: number,
    neigh: number,
    tq: number,
    best: boolean,
    ifi = 1,
  ): BatmanOriginator => ({
    originator: macOf(orig),
    neighbour: macOf(neigh),
    hard_ifindex: ifi,
    last_seen_ms: 100,
    tq,
    throughput_kbps: null,
    best,
  });
  const s = batmanSnapshot(
    tables(
      [o(1, 1, 255, true), o(3, 1, 200, true), o(3, 2, 180, false, 2), o(2, 2, 250, true, 2)],
      [1, 2],
    ),
    5000,
  );
  assert.equal(s.self.id, macOf(0));
  assert.deepEqual(s.self.details.hardifs, ["v1", "v2"]);
  assert.deepEqual(s.peers.map((p) => [p.id, p.next_hop, p.tq, p.direct, p.interface]), [
    [macOf(1), macOf(1), 255, true, "v1"],
    [macOf(2), macOf(2), 250, true, "v2"],
    [macOf(3), macOf(1), 200, false, "v1"],
  ]);
  const r3 = s.routes.find((r) => r.destination === macOf(3))!;
  assert.deepEqual(r3, {
    destination: macOf(3),
    next_hop: macOf(1),
    interface: "v1",
    cost: 55,
    backup_next_hop: macOf(2),
    backup_interface: "v2",
    path: [macOf(0), macOf(1), macOf(3)],
  });
  // a neighbour's TQ is that of its own originator entry on the same interface
  assert.deepEqual(s.neighbours.map((n) => [n.id, n.tq, n.interface, n.last_seen_ms]), [
    [macOf(1), 255, "v1", 10],
    [macOf(2), 250, "v2", 20],
  ]);
  assert.equal(s.known_nodes, 3);
});

Deno.test("batmanSnapshot() agrees with a reference on random originator tables", () => {
  let seed = 5;
  const r = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let c = 0; c < 300; c++) {
    const entries: BatmanOriginator[] = [];
    const nOrig = 1 + Math.floor(r() * 6);
    for (let orig = 1; orig <= nOrig; orig++) {
      const hops = Math.floor(r() * 4); // 0: no entry with a best flag
      const best = Math.floor(r() * Math.max(hops, 1));
      for (let h = 0; h < hops; h++) {
        entries.push({
          originator: macOf(orig),
          neighbour: macOf(10 + h),
          hard_ifindex: 1 + (h % 2),
          last_seen_ms: Math.floor(r() * 1000),
          tq: Math.floor(r() * 256),
          throughput_kbps: null,
          best: h === best,
        });
      }
    }
    const s = batmanSnapshot(tables(entries), 0);
    // reference: one peer per originator that has a best entry, next hop = that entry's neighbour,
    // backup = the highest-TQ other entry
    const origs = [...new Set(entries.map((e) => e.originator))].filter((o) =>
      entries.some((e) => e.originator === o && e.best)
    ).sort();
    assert.deepEqual(s.peers.map((p) => p.id), origs, `case ${c}`);
    for (const route of s.routes) {
      const mine = entries.filter((e) => e.originator === route.destination);
      const best = mine.find((e) => e.best)!;
      assert.equal(route.next_hop, best.neighbour);
      assert.equal(route.cost, 255 - best.tq!);
      const others = mine.filter((e) => e !== best);
      const maxTq = Math.max(-1, ...others.map((e) => e.tq!));
      if (others.length === 0) assert.equal(route.backup_next_hop, null);
      else {
        assert.ok(
          others.some((e) => e.neighbour === route.backup_next_hop && e.tq === maxTq),
          `case ${c}`,
        );
      }
    }
  }
});

Deno.test("originatorCost() uses TQ under BATMAN_IV and throughput under BATMAN_V", () => {
  const base = {
    originator: macOf(1),
    neighbour: macOf(1),
    hard_ifindex: 1,
    last_seen_ms: 0,
    best: true,
  };
  assert.equal(originatorCost({ ...base, tq: 255, throughput_kbps: null }), 0);
  assert.equal(originatorCost({ ...base, tq: null, throughput_kbps: 1000 }), 1000);
  assert.ok(
    originatorCost({ ...base, tq: null, throughput_kbps: 100_000 }) <
      originatorCost({ ...base, tq: null, throughput_kbps: 1000 }),
  );
  assert.equal(originatorCost({ ...base, tq: null, throughput_kbps: null }), 255);
});
