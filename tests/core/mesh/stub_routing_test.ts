/**
 * Routing around a router in its stub phase (every link of its LSA at MAX_LINK_COST, RFC 6987),
 * through the real route engine (two-way check, WASM core, loop-free alternates), held against
 * the plain reference Dijkstra: the stub router is never a transit hop when another path exists,
 * it is still reached as a destination at its normal cost, it is used when it is the only way,
 * and max costs summed along paths are accepted and exact.
 */
import assert from "node:assert/strict";
import { type Lsa, MAX_LINK_COST } from "../../../core/mesh/control_message.ts";
import {
  referenceCosts,
  type Topology,
  topologyFromLsas,
  wasmRouteEngine,
} from "../../../core/mesh/route_engine.ts";
import { seededRandom } from "../../../core/random/seeded_random.ts";

/** A random connected mesh as LSAs, costs in the agent's measured range [16.67, 100]. */
function randomMesh(rand: () => number, n: number, extra: number): Lsa[] {
  const ids = Array.from({ length: n }, (_, i) => `r${String(i).padStart(2, "0")}`);
  const links = new Map(ids.map((id) => [id, [] as Lsa["links"]]));
  const cost = () => Math.round((16.67 + rand() * 83.33) * 100) / 100;
  const add = (a: number, b: number) => {
    if (a === b || links.get(ids[a])!.some((l) => l.neighbour === ids[b])) return;
    links.get(ids[a])!.push({ neighbour: ids[b], cost: cost(), quality: "GOOD" });
    links.get(ids[b])!.push({ neighbour: ids[a], cost: cost(), quality: "GOOD" });
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(rand() * i));
  for (let e = 0; e < extra; e++) add(Math.floor(rand() * n), Math.floor(rand() * n));
  return ids.map((origin, i) => ({
    origin,
    seq: 1,
    age: 0,
    router_address: `10.255.0.${i + 1}`,
    links: links.get(origin)!,
  }));
}

/** The LSAs with `stub` advertising every link at MAX_LINK_COST. */
function asStub(lsas: Lsa[], stub: string): Lsa[] {
  return lsas.map((l) =>
    l.origin === stub ? { ...l, links: l.links.map((k) => ({ ...k, cost: MAX_LINK_COST })) } : l
  );
}

/** The topology without `node` (and its arcs). */
function without(t: Topology, node: string): Topology {
  return {
    ids: t.ids.filter((id) => id !== node),
    arcs: t.arcs.filter((a) => a.from !== node && a.to !== node),
  };
}

/** Cost of a path along the cheapest arcs of `t` (NaN when an arc is missing). */
function pathCost(t: Topology, path: string[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    const arcs = t.arcs.filter((a) => a.from === path[i] && a.to === path[i + 1]);
    sum += arcs.length ? Math.min(...arcs.map((a) => a.cost)) : NaN;
  }
  return sum;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

Deno.test("property: a stub router is never transit when another path exists, stays reachable, and is used when it is the only way", async () => {
  const engine = await wasmRouteEngine();
  const rand = seededRandom(6987);
  let checked = 0, onlyWay = 0, toStub = 0;
  for (let trial = 0; trial < 120; trial++) {
    const n = 3 + Math.floor(rand() * 22);
    // Sparse meshes often have cut vertices: the stub router is then the only way for some.
    const normalLsas = randomMesh(rand, n, Math.floor(rand() * n * (trial % 2 ? 1.5 : 0.3)));
    const stub = normalLsas[Math.floor(rand() * n)].origin;
    const normal = topologyFromLsas(normalLsas);
    const stubbed = topologyFromLsas(asStub(normalLsas, stub));
    const rest = without(normal, stub);
    for (const source of stubbed.ids) {
      const table = new Map(engine.routeTable(stubbed, source).map((e) => [e.destination, e]));
      const ref = referenceCosts(stubbed, source);
      assert.deepEqual(
        new Set(table.keys()),
        new Set(ref.keys()),
        `${source}: reachable set unchanged by max costs`,
      );
      const refNormal = referenceCosts(normal, source);
      assert.deepEqual(new Set(ref.keys()), new Set(refNormal.keys()), "max costs cut nothing");
      const avoiding = source === stub ? null : referenceCosts(rest, source);
      for (const [d, e] of table) {
        checked++;
        assert.ok(Number.isFinite(e.cost) && close(e.cost, ref.get(d)!), `${source}->${d} cost`);
        const transit = e.path.slice(1, -1).includes(stub);
        if (d === stub) {
          toStub++;
          assert.ok(close(e.cost, refNormal.get(d)!), `${source}->${stub}: normal cost into it`);
          assert.ok(!transit);
        } else if (avoiding) {
          if (avoiding.has(d)) {
            assert.ok(
              !transit,
              `${source}->${d} transits ${stub} although ${e.path} has a way round`,
            );
            assert.ok(close(e.cost, avoiding.get(d)!), `${source}->${d}: cost of the way round`);
          } else {
            onlyWay++;
            assert.ok(transit, `${source}->${d} must transit ${stub}, the only way`);
            assert.ok(e.cost >= MAX_LINK_COST);
          }
        }
        if (e.backupNextHop !== null) {
          assert.notEqual(e.backupNextHop, e.nextHop);
          assert.ok(Number.isFinite(e.backupCost!), "backup cost finite");
          // Backup paths may sum max costs too: valid arcs, cost exact.
          const bp = e.backupPath!;
          assert.deepEqual([bp[0], bp[1], bp.at(-1)], [source, e.backupNextHop, d]);
          assert.ok(close(pathCost(stubbed, bp), e.backupCost!), `${source}->${d}: backup cost`);
        }
      }
    }
  }
  assert.ok(onlyWay > 20 && toStub > 100, `both cases exercised: ${onlyWay} only-way, ${toStub}`);
  console.log(`${checked} routes checked, ${onlyWay} through a stub that was the only way`);
});

Deno.test("a stub router in a line carries transit at the summed maximum cost", async () => {
  const engine = await wasmRouteEngine();
  const lsa = (origin: string, links: [string, number][]): Lsa => ({
    origin,
    seq: 1,
    age: 0,
    router_address: "10.255.0.1",
    links: links.map(([neighbour, cost]) => ({ neighbour, cost, quality: "GOOD" })),
  });
  // a - s1 - s2 - b: two stub routers in a row, the only way from a to b.
  const t = topologyFromLsas([
    lsa("a", [["s1", 20]]),
    lsa("s1", [["a", MAX_LINK_COST], ["s2", MAX_LINK_COST]]),
    lsa("s2", [["s1", MAX_LINK_COST], ["b", MAX_LINK_COST]]),
    lsa("b", [["s2", 30]]),
  ]);
  const table = new Map(engine.routeTable(t, "a").map((e) => [e.destination, e]));
  assert.deepEqual(table.get("b")!.path, ["a", "s1", "s2", "b"]);
  assert.equal(table.get("b")!.cost, 20 + 2 * MAX_LINK_COST);
  assert.equal(table.get("s1")!.cost, 20, "into a stub at the normal cost");
  const back = new Map(engine.routeTable(t, "b").map((e) => [e.destination, e]));
  assert.equal(back.get("s2")!.cost, 30);
  assert.equal(back.get("s1")!.cost, 30 + MAX_LINK_COST);
});

Deno.test("property: with many stubs at once (cold start), forwarding on every router's table is loop-free and delivers", async () => {
  const engine = await wasmRouteEngine();
  const rand = seededRandom(1998);
  let pairs = 0;
  for (let trial = 0; trial < 60; trial++) {
    const n = 4 + Math.floor(rand() * 18);
    const normalLsas = randomMesh(rand, n, Math.floor(rand() * n));
    let lsas = normalLsas;
    for (const l of normalLsas) if (rand() < 0.6) lsas = asStub(lsas, l.origin);
    // Every router computes on the same database: the stubs' own LSAs as advertised.
    const topo = topologyFromLsas(lsas);
    const tables = new Map(
      topo.ids.map((s) => [s, new Map(engine.routeTable(topo, s).map((e) => [e.destination, e]))]),
    );
    for (const s of topo.ids) {
      for (const d of referenceCosts(topo, s).keys()) {
        pairs++;
        const seen = new Set<string>();
        let at = s;
        while (at !== d) {
          assert.ok(!seen.has(at), `trial ${trial}: ${s}->${d} loops at ${at}`);
          seen.add(at);
          at = tables.get(at)!.get(d)!.nextHop;
        }
      }
    }
  }
  assert.ok(pairs > 5000, `${pairs} pairs`);
});
