import assert from "node:assert/strict";
import { seededRandom } from "../../../core/random/seeded_random.ts";
import {
  type RouteEntry,
  toCsr,
  type Topology,
  wasmRouteEngine,
} from "../../../core/mesh/route_engine.ts";
import { loadCore } from "../../../wasm/core.ts";

/** Margin of the reference's strict inequalities (float sums of 16.67 differ in the last bits). */
const TOL = 1e-6;
const lt = (a: number, b: number) => a < b - TOL;

function addLink(arcs: Topology["arcs"], a: string, b: string, ab: number, ba: number) {
  arcs.push({ from: a, to: b, cost: ab }, { from: b, to: a, cost: ba });
}

/** A rows x cols grid; cost() gives each direction's cost. */
function grid(rows: number, cols: number, cost: () => number): Topology {
  const id = (r: number, c: number) => `g${String(r * cols + c).padStart(3, "0")}`;
  const arcs: Topology["arcs"] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (c + 1 < cols) addLink(arcs, id(r, c), id(r, c + 1), cost(), cost());
      if (r + 1 < rows) addLink(arcs, id(r, c), id(r + 1, c), cost(), cost());
    }
  }
  const ids = Array.from({ length: rows * cols }, (_, i) => id(Math.floor(i / cols), i % cols));
  return { ids: ids.sort(), arcs };
}

function ring(n: number, cost: () => number): Topology {
  const ids = Array.from({ length: n }, (_, i) => `n${String(i).padStart(3, "0")}`);
  const arcs: Topology["arcs"] = [];
  for (let i = 0; i < n; i++) addLink(arcs, ids[i], ids[(i + 1) % n], cost(), cost());
  return { ids, arcs };
}

/** A random connected graph (spanning tree plus extra links). */
function randomGraph(rand: () => number, n: number, extra: number, cost: () => number): Topology {
  const ids = Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, "0")}`);
  const arcs: Topology["arcs"] = [];
  const seen = new Set<string>();
  const add = (a: number, b: number) => {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (a === b || seen.has(key)) return;
    seen.add(key);
    addLink(arcs, ids[a], ids[b], cost(), cost());
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(rand() * i));
  for (let e = 0; e < extra; e++) add(Math.floor(rand() * n), Math.floor(rand() * n));
  return { ids, arcs };
}

/** Floyd-Warshall: dist.get(a).get(b) = shortest cost from a to b. */
function floydWarshall(t: Topology): Map<string, Map<string, number>> {
  const d = new Map(t.ids.map((a) => [a, new Map(t.ids.map((b) => [b, a === b ? 0 : Infinity]))]));
  for (const a of t.arcs) d.get(a.from)!.set(a.to, Math.min(d.get(a.from)!.get(a.to)!, a.cost));
  for (const k of t.ids) {
    for (const i of t.ids) {
      const dik = d.get(i)!.get(k)!;
      if (dik === Infinity) continue;
      for (const j of t.ids) {
        const via = dik + d.get(k)!.get(j)!;
        if (via < d.get(i)!.get(j)!) d.get(i)!.set(j, via);
      }
    }
  }
  return d;
}

function neighboursOf(t: Topology, s: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of t.arcs) {
    if (a.from === s) out.set(a.to, Math.min(a.cost, out.get(a.to) ?? Infinity));
  }
  return out;
}

/** Reference: the neighbours of s that are LFAs for d with primary next hop n, with their costs. */
function referenceLfas(
  t: Topology,
  dist: Map<string, Map<string, number>>,
  s: string,
  d: string,
  n: string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [b, linkCost] of neighboursOf(t, s)) {
    if (b === n) continue;
    const bd = dist.get(b)!.get(d)!;
    if (!lt(bd, dist.get(b)!.get(s)! + dist.get(s)!.get(d)!)) continue;
    if (n !== d && !lt(bd, dist.get(b)!.get(n)! + dist.get(n)!.get(d)!)) continue;
    out.set(b, linkCost + bd);
  }
  return out;
}

function topologies(): { name: string; t: Topology }[] {
  const rand = seededRandom(5286);
  const randomCost = () => 1 + Math.floor(rand() * 20);
  const out = [
    { name: "grid 4x5 16.67", t: grid(4, 5, () => 16.67) },
    { name: "grid 4x5 random", t: grid(4, 5, randomCost) },
    { name: "grid 3x3 equal", t: grid(3, 3, () => 1) },
    { name: "ring 7 equal", t: ring(7, () => 1) },
    { name: "ring 8 equal", t: ring(8, () => 1) },
    { name: "ring 9 random", t: ring(9, randomCost) },
  ];
  for (let i = 0; i < 25; i++) {
    const n = 4 + Math.floor(rand() * 14);
    const equal = i % 3 === 0;
    out.push({
      name: `random ${i} (${n} nodes${equal ? ", equal costs" : ""})`,
      t: randomGraph(rand, n, Math.floor(rand() * n * 1.5), equal ? () => 1 : randomCost),
    });
  }
  return out;
}

function pathCost(t: Topology, path: string[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    sum += Math.min(
      ...t.arcs.filter((a) => a.from === path[i] && a.to === path[i + 1]).map((a) => a.cost),
    );
  }
  return sum;
}

type Tables = Map<string, Map<string, RouteEntry>>;

/** Forwards hop by hop from s to d with n dead: switched routers use their backup. */
function forward(
  table: Tables,
  switched: readonly string[],
  s: string,
  d: string,
  n: string,
  bound: number,
): boolean {
  const seen = new Set<string>();
  let at = s;
  while (at !== d) {
    if (at === n || seen.has(at) || seen.size > bound) return false;
    seen.add(at);
    const e = table.get(at)!.get(d);
    const next = switched.includes(at) ? e?.backupNextHop : e?.nextHop;
    if (!next) return false;
    at = next;
  }
  return true;
}

Deno.test("route tables prefer loop-free alternates (RFC 5286)", async (t) => {
  const core = await loadCore();
  const engine = await wasmRouteEngine(core);
  const cases = topologies();
  const tables = cases.map(({ t: topo }) =>
    new Map(
      topo.ids.map((s) => [s, new Map(engine.routeTable(topo, s).map((e) => [e.destination, e]))]),
    )
  );
  const dists = cases.map(({ t: topo }) => floydWarshall(topo));
  const coreTables = cases.map(({ t: topo }) => {
    using g = core.graph(toCsr(topo));
    return new Map(
      topo.ids.map((s) => [
        s,
        new Map(g.routeTable(s, { disjoint: "node" }).map((e) => [e.destination, e])),
      ]),
    );
  });

  await t.step(
    "a chosen alternate satisfies the inequalities and is the cheapest; else the core's backup stays",
    () => {
      let lfas = 0, fallbacks = 0;
      cases.forEach(({ name, t: topo }, k) => {
        using g = core.graph(toCsr(topo));
        for (const s of topo.ids) {
          const coreTable = new Map(
            g.routeTable(s, { disjoint: "node" }).map((e) => [e.destination, e]),
          );
          const table = tables[k].get(s)!;
          assert.equal(table.size, coreTable.size, name);
          for (const [d, e] of table) {
            const ref = referenceLfas(topo, dists[k], s, d, e.nextHop);
            const old = coreTable.get(d)!;
            assert.equal(e.nextHop, old.nextHop, `${name} ${s}->${d}: primary unchanged`);
            assert.deepEqual(e.path, old.path);
            if (ref.size === 0) {
              fallbacks++;
              assert.deepEqual(e, old, `${name} ${s}->${d}: no LFA, core backup kept`);
              continue;
            }
            lfas++;
            const b = e.backupNextHop!;
            assert.ok(ref.has(b), `${name} ${s}->${d} via ${e.nextHop}: ${b} is not an LFA`);
            const best = Math.min(...ref.values());
            assert.ok(Math.abs(ref.get(b)! - best) < TOL, `${name} ${s}->${d}: not the cheapest`);
            const tied = [...ref].filter(([, c]) => Math.abs(c - best) < TOL).map(([x]) => x);
            assert.equal(b, tied.sort()[0], `${name} ${s}->${d}: ties by id`);
            assert.equal(e.backupKind, e.nextHop === d ? "link" : "node");
            assert.ok(Math.abs(e.backupCost! - best) < TOL);
            const p = e.backupPath!;
            assert.deepEqual([p[0], p[1], p.at(-1)], [s, b, d]);
            assert.ok(Math.abs(pathCost(topo, p) - e.backupCost!) < TOL, "path cost");
            assert.ok(Math.abs(pathCost(topo, p.slice(1)) - dists[k].get(b)!.get(d)!) < TOL);
            assert.ok(!p.slice(1).includes(s), "backup path does not return to the source");
            if (e.nextHop !== d) assert.ok(!p.includes(e.nextHop), "backup path avoids N");
          }
        }
      });
      assert.ok(
        lfas > 100 && fallbacks > 10,
        `both cases exercised: ${lfas} LFAs, ${fallbacks} fallbacks`,
      );
    },
  );

  await t.step(
    "after a router dies, packets reach the destination when every switch had a node-protecting LFA",
    () => {
      const all = [0, 0, 0, 0];
      cases.forEach(({ name, t: topo }, k) => {
        const table = tables[k], dist = dists[k];
        let triples = 0, covered = 0, delivered = 0, coreDelivered = 0;
        for (const s of topo.ids) {
          for (const n of neighboursOf(topo, s).keys()) {
            for (const d of topo.ids) {
              if (d === s || d === n) continue;
              triples++;
              const switched = topo.ids.filter((x) =>
                x !== n && table.get(x)!.get(d)?.nextHop === n
              );
              const protectedAll = switched.every((x) => {
                const e = table.get(x)!.get(d)!;
                return e.backupNextHop !== null &&
                  referenceLfas(topo, dist, x, d, n).has(e.backupNextHop);
              });
              const ok = forward(table, switched, s, d, n, topo.ids.length);
              if (forward(coreTables[k], switched, s, d, n, topo.ids.length)) coreDelivered++;
              if (ok) delivered++;
              if (protectedAll) {
                covered++;
                assert.ok(ok, `${name}: ${s}->${d} with ${n} dead loops or hits ${n}`);
              }
            }
          }
        }
        all[0] += triples, all[1] += covered, all[2] += delivered, all[3] += coreDelivered;
        if (name === "grid 4x5 16.67") {
          const pct = (x: number) => (100 * x / triples).toFixed(1);
          console.log(
            `${name}: ${triples} (S,D,N) kills, ${
              pct(covered)
            }% with node-protecting LFAs at every ` +
              `switched router, ${pct(delivered)}% delivered (${
                pct(coreDelivered)
              }% with the core's backups)`,
          );
        }
      });
      const pct = (x: number) => (100 * x / all[0]).toFixed(1);
      console.log(
        `all ${cases.length} graphs: ${all[0]} kills, ${pct(all[1])}% fully LFA-protected, ` +
          `${pct(all[2])}% delivered (${pct(all[3])}% with the core's backups)`,
      );
    },
  );
});

Deno.test("per-destination node-protecting LFA coverage is reported for a 4x5 grid", async () => {
  const engine = await wasmRouteEngine();
  const topo = grid(4, 5, () => 16.67);
  const dist = floydWarshall(topo);
  let total = 0, node = 0;
  for (const s of topo.ids) {
    for (const e of engine.routeTable(topo, s) as RouteEntry[]) {
      if (e.nextHop === e.destination) continue;
      total++;
      if (referenceLfas(topo, dist, s, e.destination, e.nextHop).size > 0) {
        node++;
        assert.equal(e.backupKind, "node");
      }
    }
  }
  assert.ok(total > 0);
  console.log(`grid 4x5 16.67: ${node}/${total} (S,D) with N != D have a node-protecting LFA`);
});
