import assert from "node:assert/strict";
import type { Lsa } from "../../../core/mesh/control_message.ts";
import {
  referenceCosts,
  topologyFromLsas,
  wasmRouteEngine,
} from "../../../core/mesh/route_engine.ts";

function randomLsas(rand: () => number, n: number, oneWay = 0): Lsa[] {
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  const links = new Map(ids.map((id) => [id, [] as Lsa["links"]]));
  const add = (a: number, b: number) => {
    const has = (x: number, y: number) => links.get(ids[x])!.some((l) => l.neighbour === ids[y]);
    if (a === b || has(a, b) || has(b, a)) return;
    const cost = 1 + Math.floor(rand() * 100);
    links.get(ids[a])!.push({ neighbour: ids[b], cost, quality: "GOOD" });
    if (rand() >= oneWay) {
      links.get(ids[b])!.push({
        neighbour: ids[a],
        cost: 1 + Math.floor(rand() * 100),
        quality: "GOOD",
      });
    }
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(rand() * i));
  for (let e = 0; e < n; e++) add(Math.floor(rand() * n), Math.floor(rand() * n));
  return ids.map((id, i) => ({
    origin: id,
    seq: 1,
    age: 0,
    router_address: `10.255.0.${i + 1}`,
    links: links.get(id)!,
  }));
}

Deno.test("topologyFromLsas() uses a link only when both ends advertise it", () => {
  const lsas: Lsa[] = [
    {
      origin: "a",
      seq: 1,
      age: 0,
      router_address: "10.0.0.1",
      links: [{ neighbour: "b", cost: 5, quality: "GOOD" }, {
        neighbour: "c",
        cost: 1,
        quality: "GOOD",
      }],
    },
    {
      origin: "b",
      seq: 1,
      age: 0,
      router_address: "10.0.0.2",
      links: [{ neighbour: "a", cost: 7, quality: "GOOD" }],
    },
    { origin: "c", seq: 1, age: 0, router_address: "10.0.0.3", links: [] },
  ];
  const t = topologyFromLsas(lsas);
  assert.deepEqual(t.ids, ["a", "b", "c"]);
  assert.deepEqual(t.arcs, [{ from: "a", to: "b", cost: 5 }, { from: "b", to: "a", cost: 7 }]);
});

Deno.test("property: the WASM route table matches a reference Dijkstra and backups are disjoint", async () => {
  const engine = await wasmRouteEngine();
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let trial = 0; trial < 100; trial++) {
    const n = 2 + Math.floor(rand() * 25);
    const topo = topologyFromLsas(randomLsas(rand, n, 0.1));
    const source = topo.ids[Math.floor(rand() * n)];
    const table = engine.routeTable(topo, source);
    const ref = referenceCosts(topo, source);
    assert.deepEqual(
      new Set(table.map((e) => e.destination)),
      new Set(ref.keys()),
      "reachable destinations differ",
    );
    const arcCost = (a: string, b: string) =>
      topo.arcs.find((x) => x.from === a && x.to === b)?.cost ?? NaN;
    for (const e of table) {
      assert.ok(Math.abs(e.cost - ref.get(e.destination)!) < 1e-9, `cost to ${e.destination}`);
      assert.equal(e.path[0], source);
      assert.equal(e.path[1], e.nextHop);
      assert.equal(e.path[e.path.length - 1], e.destination);
      const walked = e.path.slice(1).reduce((sum, v, i) => sum + arcCost(e.path[i], v), 0);
      assert.ok(Math.abs(walked - e.cost) < 1e-9, "primary path cost");
      if (e.backupNextHop !== null) {
        assert.notEqual(e.backupNextHop, e.nextHop, "backup next hop equals primary");
        const bp = e.backupPath!;
        assert.equal(bp[0], source);
        assert.equal(bp[bp.length - 1], e.destination);
        if (e.backupKind === "disjoint") {
          const inner = new Set(e.path.slice(1, -1));
          assert.ok(bp.slice(1, -1).every((v) => !inner.has(v)), "backup shares a router");
        }
      }
    }
  }
});

Deno.test("route engine returns nothing for a source absent from the topology", async () => {
  const engine = await wasmRouteEngine();
  assert.deepEqual(engine.routeTable({ ids: ["a"], arcs: [] }, "zz"), []);
});
