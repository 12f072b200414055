/**
 * Fast-reroute table of a 1,000-node random geometric mesh: next hops plus 2-disjoint backups
 * for every destination in one `routeTable` call (including building the JS result objects),
 * for 20 sources, node- and edge-disjoint. Baseline in the same run: the naive way, one
 * pairwise Suurballe query (`disjointPaths`, k = 2) per destination, which also checks that no
 * primary + backup pair costs less than Suurballe's optimum. Writes
 * bench/results/wasm_reroute.json.
 *
 * @module
 */
import { type Disjointness, loadCore } from "../wasm/core.ts";
import { geometricMesh, seededRandom } from "../core/routing/random_graph.ts";
import { cpuPerCall, fmt, loadAverage, stats, time, writeResult } from "./wasm_stats.ts";

const N = 1000, RADIUS = 0.055, SOURCES = 20;
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 15), WARMUP = 10, BASELINE_SOURCES = 3;

const csr = geometricMesh(seededRandom(1), N, RADIUS);
const degree = csr.targets.length / N;
const core = await loadCore();
using g = core.graph(csr);
const rand = seededRandom(99);
const sources = Array.from({ length: SOURCES }, () => csr.ids[Math.floor(rand() * N)]);
const reachable = g.routeTable(sources[0]).length;
console.log(
  `mesh: ${N} nodes, radius ${RADIUS}, mean degree ${fmt(degree, 1)}, ` +
    `${reachable} destinations reachable from ${sources[0]}`,
);

const load0 = await loadAverage();
const result: Record<string, unknown> = {
  mesh: { nodes: N, radius: RADIUS, mean_degree: Math.round(degree * 100) / 100, sources: SOURCES },
};
for (const mode of ["node", "edge"] as Disjointness[]) {
  // Per source: median of RUNS calls; then the distribution over sources.
  const perSource: number[] = [];
  const perSourceRaw: number[] = [];
  const perSourceCpu: number[] = [];
  let withBackup = 0, disjoint = 0, entries = 0;
  for (const s of sources) {
    perSource.push(stats(time(RUNS, WARMUP, () => g.routeTable(s, { disjoint: mode }))).median_ms);
    perSourceCpu.push(cpuPerCall(RUNS, () => g.routeTable(s, { disjoint: mode })));
    const idx = g.indexOf(s);
    perSourceRaw.push(stats(time(RUNS, 2, () => g.routeTableRaw(idx, mode))).median_ms);
    const table = g.routeTable(s, { disjoint: mode });
    entries += table.length;
    withBackup += table.filter((e) => e.backupKind !== null).length;
    disjoint += table.filter((e) => e.backupKind === "disjoint").length;
  }
  // Baseline: one pairwise Suurballe query per destination, plus the next-hop tree.
  const baseline: number[] = [];
  let belowOptimum = 0, aboveOptimum = 0;
  for (const s of sources.slice(0, BASELINE_SOURCES)) {
    const t0 = performance.now();
    g.nextHops(s);
    const pairs = new Map<string, number>();
    for (const t of csr.ids) {
      if (t === s) continue;
      const r = g.disjointPaths(s, t, { k: 2, disjoint: mode });
      if (r.paths.length === 2) pairs.set(t, r.total_cost);
    }
    baseline.push(performance.now() - t0);
    for (const e of g.routeTable(s, { disjoint: mode })) {
      if (e.backupKind !== "disjoint") continue;
      // Primary + disjoint backup: never below Suurballe's optimum (that would be a bug), above
      // it only where the shortest path is in no optimal pair.
      const best = pairs.get(e.destination) ?? -Infinity;
      const pair = e.cost + e.backupCost!;
      if (pair < best - 1e-6) belowOptimum++;
      else if (pair > best + 1e-6) aboveOptimum++;
    }
  }
  const T = stats(perSource), R = stats(perSourceRaw), B = stats(baseline);
  const C = stats(perSourceCpu);
  result[mode] = {
    route_table_ms_over_sources: T,
    route_table_raw_ms_over_sources: R,
    route_table_cpu_ms_per_call_over_sources: C,
    baseline_per_destination_suurballe_ms: B,
    speedup_vs_baseline_median: Math.round((B.median_ms / T.median_ms) * 10) / 10,
    destinations: entries,
    with_backup: withBackup,
    disjoint_backups: disjoint,
    pairs_below_suurballe_optimum: belowOptimum,
    pairs_above_suurballe_optimum: aboveOptimum,
    target_20ms_median: T.median_ms <= 20,
    target_20ms_p95: T.p95_ms <= 20,
    target_20ms_cpu_median: C.median_ms <= 20,
  };
  console.log(
    `${mode}-disjoint: route table median ${fmt(T.median_ms)} ms, p95 ${fmt(T.p95_ms)} ms, ` +
      `max ${fmt(Math.max(...perSource))} ms over ${SOURCES} sources, CPU/call median ` +
      `${fmt(C.median_ms)} ms (raw arrays: median ` +
      `${fmt(R.median_ms)} ms); baseline ${fmt(B.median_ms)} ms -> ` +
      `${fmt(B.median_ms / T.median_ms, 1)}x; backups ${withBackup}/${entries} ` +
      `(${disjoint} fully disjoint); primary + backup vs Suurballe's optimum (first ` +
      `${BASELINE_SOURCES} sources): ${belowOptimum} below (bugs), ${aboveOptimum} above (trap)`,
  );
}
result.load_average = { start: load0, end: await loadAverage() };
result.command = "deno task bench:wasm_reroute";
result.date = new Date().toISOString();
await writeResult("reroute", result);
