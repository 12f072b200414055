import assert from "node:assert/strict";
import { type CoreGraph, type CsrGraph, loadCore } from "../../wasm/core.ts";
import { dijkstraReference } from "../../core/routing/reference_dijkstra.ts";
import { minCostDisjoint } from "../../core/routing/reference_min_cost_flow.ts";
import { geometricMesh, seededRandom } from "../../core/routing/random_graph.ts";
import { arcWeights, assertDisjoint, assertPath, corpus } from "./graph_checks.ts";

const core = await loadCore();

type Optimum = (s: number, t: number) => { count: number; cost: number };

/** Checks every entry of the route table of `s` against the references. */
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
  let disjoint = 0;
  for (const e of table) {
    const t = csr.ids.indexOf(e.destination);
    const where = `${label} ${mode} ${csr.ids[s]}->${e.destination}`;
    assert.ok(Math.abs(e.cost - ref.dist[t]) <= 1e-9 * Math.max(1, e.cost), `${where}: cost`);
    assertPath(csr, e.path, e.cost, csr.ids[s], e.destination);
    assert.equal(e.nextHop, e.path[1]);
    const best = optimum(s, t);
    if (e.backupKind === null) {
      assert.equal(e.backupPath, null);
      // No backup means not even a path around the first link exists.
      assert.ok(best.count < 2, `${where}: a disjoint pair exists`);
      continue;
    }
    const bp = e.backupPath!;
    assertPath(csr, bp, e.backupCost!, csr.ids[s], e.destination);
    assert.equal(e.backupNextHop, bp[1]);
    const parallel = arcWeights(csr, s, csr.ids.indexOf(e.nextHop)).length > 1;
    if (!parallel) assert.notEqual(e.backupNextHop, e.nextHop, `${where}: same next hop`);
    if (e.backupKind === "disjoint") {
      assertDisjoint(csr, [e.path, bp], mode);
      // Primary + a disjoint backup taken from an optimal pair is itself optimal.
      assert.equal(best.count, 2, where);
      assert.ok(Math.abs(e.cost + e.backupCost! - best.cost) <= 1e-6, `${where}: pair not optimal`);
      disjoint++;
    } else if (e.backupKind === "node") {
      assert.ok(!bp.includes(e.nextHop), `${where}: backup crosses the primary next hop`);
    }
  }
  return { disjoint, entries: table.length };
}

Deno.test("routeTable() gives shortest primaries and first-hop-diverse backups (random graphs)", async (t) => {
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

Deno.test("routeTable() on geometric meshes agrees with the pairwise Suurballe optimum", async (t) => {
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

Deno.test("routeTable() on a directed mesh with asymmetric costs agrees with pairwise Suurballe", async (t) => {
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
