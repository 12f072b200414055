import assert from "node:assert/strict";
import { type CoreGraph, type CsrGraph, loadCore } from "../../wasm/core.ts";
import { dijkstraReference } from "../../core/routing/reference_dijkstra.ts";
import { minCostDisjoint } from "../../core/routing/reference_min_cost_flow.ts";
import { geometricMesh, seededRandom } from "../../core/routing/random_graph.ts";
import { arcWeights, assertDisjoint, assertPath, corpus } from "./graph_checks.ts";

const core = await loadCore();

type Optimum = (s: number, t: number) => { count: number; cost: number };

/** The cheapest arc u -> v (what a shortest path uses between consecutive nodes). */
function cheapestArc(g: CsrGraph, u: number, v: number): number {
  let best = -1;
  for (let a = g.offsets[u]; a < g.offsets[u + 1]; a++) {
    if (g.targets[a] === v && (best < 0 || g.weights[a] < g.weights[best])) best = a;
  }
  return best;
}

/** Distance s -> t by the O(n^2) reference with some arcs (and every arc into some nodes) cut. */
function distanceWithout(
  g: CsrGraph,
  s: number,
  t: number,
  cut: { arcs?: number[]; nodes?: number[] },
): number {
  const weights = g.weights.slice();
  const links = new Set((cut.arcs ?? []).map((a) => g.links[a]));
  const nodes = new Set(cut.nodes ?? []);
  for (let a = 0; a < weights.length; a++) {
    // An undirected link is cut in both directions (its two arcs share the link index).
    const sameLink = !g.directed && links.has(g.links[a]);
    if (nodes.has(g.targets[a]) || sameLink || (cut.arcs ?? []).includes(a)) weights[a] = Infinity;
  }
  return dijkstraReference({ ...g, weights }, s).dist[t];
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/**
 * Checks every entry of the route table of `s` against the references: the primary is a
 * shortest path; the backup is the shortest path disjoint from the primary when one exists,
 * else the shortest path avoiding the next-hop router (node mode), else the first link.
 */
function checkTable(
  csr: CsrGraph,
  g: CoreGraph,
  s: number,
  mode: "edge" | "node",
  optimum: Optimum,
  label: string,
): { disjoint: number; entries: number } {
  const ref = dijkstraReference(csr, s);
  const table = g.routeTable(csr.ids[s], { disjoint: mode });
  const reachable = ref.dist.filter((d, v) => v !== s && d < Infinity).length;
  assert.equal(table.length, reachable, `${label}: one entry per reachable destination`);
  const idx = (id: string) => csr.ids.indexOf(id);
  let disjoint = 0;
  for (const e of table) {
    const t = idx(e.destination);
    const where = `${label} ${mode} ${csr.ids[s]}->${e.destination}`;
    assert.ok(close(e.cost, ref.dist[t]), `${where}: cost`);
    assertPath(csr, e.path, e.cost, csr.ids[s], e.destination);
    assert.equal(e.nextHop, e.path[1]);
    const nh = idx(e.nextHop);
    const pathArcs = e.path.slice(1).map((v, i) => cheapestArc(csr, idx(e.path[i]), idx(v)));
    const interior = e.path.slice(1, -1).map(idx);
    const firstLink = [pathArcs[0]];
    const expectDisjoint = mode === "node"
      ? distanceWithout(csr, s, t, { nodes: interior, arcs: interior.length ? [] : firstLink })
      : distanceWithout(csr, s, t, { arcs: pathArcs });
    const expectNode = mode === "node" && nh !== t
      ? distanceWithout(csr, s, t, { nodes: [nh] })
      : Infinity;
    const expectLink = distanceWithout(csr, s, t, { arcs: firstLink });
    const [kind, want] = expectDisjoint < Infinity
      ? ["disjoint", expectDisjoint]
      : expectNode < Infinity
      ? ["node", expectNode]
      : expectLink < Infinity
      ? ["link", expectLink]
      : [null, null];
    assert.equal(e.backupKind, kind, `${where}: backup kind`);
    if (kind === null) {
      assert.equal(e.backupPath, null);
      continue;
    }
    const bp = e.backupPath!;
    assert.ok(close(e.backupCost!, want!), `${where}: backup cost ${e.backupCost} != ${want}`);
    assertPath(csr, bp, e.backupCost!, csr.ids[s], e.destination);
    assert.equal(e.backupNextHop, bp[1]);
    const parallel = arcWeights(csr, s, nh).length > 1;
    if (!parallel) assert.notEqual(e.backupNextHop, e.nextHop, `${where}: same next hop`);
    if (kind === "disjoint") {
      assertDisjoint(csr, [e.path, bp], mode);
      // A disjoint pair that contains the primary costs at least Suurballe's optimum.
      const best = optimum(s, t);
      assert.equal(best.count, 2, where);
      assert.ok(e.cost + e.backupCost! >= best.cost - 1e-6, `${where}: below the optimum`);
      disjoint++;
    } else if (kind === "node") {
      assert.ok(!bp.includes(e.nextHop), `${where}: backup crosses the primary next hop`);
    }
  }
  return { disjoint, entries: table.length };
}

Deno.test("routeTable() gives shortest primaries and the best disjoint (else node-, else link-avoiding) backups", async (t) => {
  const cases = corpus(250, 25);
  for (const mode of ["edge", "node"] as const) {
    await t.step(`${mode}-disjoint backups on ${cases.length} graphs`, () => {
      let disjoint = 0;
      for (const { label, csr } of cases) {
        using g = core.graph(csr);
        const optimum: Optimum = (s, dest) => minCostDisjoint(csr, s, dest, 2, mode);
        disjoint += checkTable(csr, g, 0, mode, optimum, label).disjoint;
      }
      assert.ok(disjoint > 300, `only ${disjoint} disjoint backups seen`);
    });
  }
});

Deno.test("routeTable() on geometric meshes matches the references", async (t) => {
  for (const seed of [3, 11, 29]) {
    const csr = geometricMesh(seededRandom(seed), 250, 0.12);
    using g = core.graph(csr);
    for (const mode of ["node", "edge"] as const) {
      await t.step(`mesh seed ${seed}, ${mode}-disjoint, 3 sources`, () => {
        const optimum: Optimum = (s, dest) => {
          const r = g.disjointPaths(csr.ids[s], csr.ids[dest], { k: 2, disjoint: mode });
          return { count: r.paths.length, cost: r.total_cost };
        };
        for (const s of [0, 1, 2]) {
          const r = checkTable(csr, g, s, mode, optimum, `mesh ${seed}`);
          assert.ok(r.disjoint > r.entries / 4, `few disjoint backups: ${r.disjoint}/${r.entries}`);
        }
      });
    }
  }
});

Deno.test("routeTable() on a directed mesh with asymmetric costs matches the references", async (t) => {
  // Every undirected link becomes two arcs whose costs differ by up to 50 %, as when each
  // router advertises its own measured cost.
  const und = geometricMesh(seededRandom(17), 250, 0.12);
  const rand = seededRandom(5);
  const csr: CsrGraph = {
    ...und,
    directed: true,
    weights: und.weights.map((w) => w * (1 + 0.5 * rand())),
    links: Int32Array.from(und.links.keys()),
  };
  using g = core.graph(csr);
  for (const mode of ["node", "edge"] as const) {
    await t.step(`${mode}-disjoint, 3 sources`, () => {
      const optimum: Optimum = (s, dest) => {
        const r = g.disjointPaths(csr.ids[s], csr.ids[dest], { k: 2, disjoint: mode });
        return { count: r.paths.length, cost: r.total_cost };
      };
      for (const s of [0, 7, 42]) {
        const r = checkTable(csr, g, s, mode, optimum, "directed mesh");
        assert.ok(r.disjoint > r.entries / 4, `few disjoint backups: ${r.disjoint}/${r.entries}`);
      }
    });
  }
});

Deno.test("routeTable() falls back to a link-protecting backup when no disjoint pair exists", () => {
  // s-a-t with a detour s-b-a: every path to t crosses a, so only the link s-a can be avoided.
  const csr: CsrGraph = {
    ids: ["s", "a", "t", "b"],
    directed: false,
    offsets: new Int32Array([0, 2, 5, 6, 8]),
    targets: new Int32Array([1, 3, 0, 2, 3, 1, 0, 1]),
    weights: new Float64Array([1, 1, 1, 1, 1, 1, 1, 1]),
    links: new Int32Array([0, 2, 0, 1, 3, 1, 2, 3]),
  };
  using g = core.graph(csr);
  const t = g.routeTable("s", { disjoint: "node" }).find((e) => e.destination === "t")!;
  assert.deepEqual(t.path, ["s", "a", "t"]);
  assert.equal(t.backupKind, "link");
  assert.deepEqual(t.backupPath, ["s", "b", "a", "t"]);
  assert.equal(t.backupCost, 3);
});
