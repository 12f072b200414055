/**
 * Dijkstra on 100k nodes / 500k undirected links: the WASM core vs tuned pure TypeScript vs
 * python3-igraph (Debian) on the same graph and the same sources. Only the computation is timed:
 * WASM = one shortest_tree call plus copying distances and predecessors out; TS = the
 * typed-array 4-ary-heap Dijkstra; igraph = `g.distances(source, weights=...)` (which also
 * converts the distances to a Python list). Writes bench/results/wasm_dijkstra.json.
 *
 * @module
 */
import { loadCore } from "../wasm/core.ts";
import { csrFromArrays } from "../core/routing/graph.ts";
import { seededRandom } from "../core/routing/random_graph.ts";
import {
  bucketWorkspace,
  dijkstraBuckets,
  dijkstraTuned,
  tunedWorkspace,
} from "../core/routing/reference_dijkstra.ts";
import { fmt, interleaved, loadAverage, python, stats, writeResult } from "./wasm_stats.ts";

const N = 100_000, LINKS = 500_000, RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 40);
// V8 runs new WASM code in its baseline tier (Liftoff) and swaps in optimised code in the
// background; 30 warm-up calls per implementation get every side onto its optimised code.
const WARMUP = 30, SOURCES = 20;

const rand = seededRandom(2026);
const src = new Int32Array(LINKS), dst = new Int32Array(LINKS), w = new Float64Array(LINKS);
for (let i = 0; i < LINKS; i++) {
  // A ring keeps the graph connected; the rest are uniform random links.
  const u = i < N ? i : Math.floor(rand() * N);
  let v = i < N ? (i + 1) % N : Math.floor(rand() * N);
  if (v === u) v = (u + 1) % N;
  src[i] = u;
  dst[i] = v;
  w[i] = 1 + rand() * 99;
}
const ids = Array.from({ length: N }, (_, i) => String(i));
const csr = csrFromArrays(ids, src, dst, w, false);
const sources = Array.from({ length: SOURCES }, () => Math.floor(rand() * N));
console.log(`graph: ${N} nodes, ${LINKS} undirected links (${csr.targets.length} arcs)`);

// The same graph for python, in a temp file.
const graphFile = await Deno.makeTempFile({ prefix: "x0_bench_graph_" });
const sourcesFile = await Deno.makeTempFile({ prefix: "x0_bench_sources_" });
try {
  const head = new Int32Array([N, LINKS]);
  const bytes = new Uint8Array(8 + LINKS * 16);
  bytes.set(new Uint8Array(head.buffer), 0);
  bytes.set(new Uint8Array(src.buffer), 8);
  bytes.set(new Uint8Array(dst.buffer), 8 + 4 * LINKS);
  bytes.set(new Uint8Array(w.buffer), 8 + 8 * LINKS);
  await Deno.writeFile(graphFile, bytes);
  await Deno.writeTextFile(sourcesFile, sources.join("\n"));

  const load0 = await loadAverage();
  const core = await loadCore();
  using g = core.graph(csr);
  const dist = new Float64Array(N), pred = new Int32Array(N);
  const ws = tunedWorkspace(N, csr.targets.length);
  const bws = bucketWorkspace(N);
  const [wasm, ts, tsBuckets] = interleaved(RUNS, WARMUP, [
    (i) => g.shortestTreeInto(sources[i % SOURCES], dist, pred),
    (i) => dijkstraTuned(csr, sources[i % SOURCES], ws),
    (i) => dijkstraBuckets(csr, sources[i % SOURCES], bws),
  ]);
  g.shortestTreeInto(sources[0], dist, pred);
  const wasmDist = dist.slice();
  dijkstraTuned(csr, sources[0], ws);
  dijkstraBuckets(csr, sources[0], bws);
  let maxDiff = 0;
  for (let v = 0; v < N; v++) {
    maxDiff = Math.max(
      maxDiff,
      Math.abs(ws.dist[v] - wasmDist[v]),
      Math.abs(bws.dist[v] - wasmDist[v]),
    );
  }

  const py = await python("igraph_dijkstra.py", [
    graphFile,
    sourcesFile,
    String(RUNS),
    String(WARMUP),
  ]);
  const igraph = py.times_ms as number[];
  const wasmSum = wasmDist.reduce((a, b) => a + (b < Infinity ? b : 0), 0);
  const igraphDiff = Math.abs(wasmSum - (py.check_sum as number)) / wasmSum;

  const W = stats(wasm.wall), T = stats(ts.wall), TB = stats(tsBuckets.wall), I = stats(igraph);
  const wasmCpu = stats(wasm.cpu).median_ms, tsCpu = stats(ts.cpu).median_ms;
  const tsbCpu = stats(tsBuckets.cpu).median_ms;
  const result = {
    graph: { nodes: N, undirected_links: LINKS, arcs: csr.targets.length, sources: SOURCES },
    wasm: { ...W, cpu_median_ms: wasmCpu },
    tuned_ts: { ...T, cpu_median_ms: tsCpu, algorithm: "4-ary heap, lazy deletion" },
    ts_same_algorithm: { ...TB, cpu_median_ms: tsbCpu, algorithm: "bucket queue, as the core" },
    igraph: { ...I, cpu_mean_ms: py.cpu_ms_per_call, version: py.igraph },
    ratios: {
      ts_over_wasm_median: Math.round((T.median_ms / W.median_ms) * 100) / 100,
      igraph_over_wasm_median: Math.round((I.median_ms / W.median_ms) * 100) / 100,
      ts_over_wasm_p95: Math.round((T.p95_ms / W.p95_ms) * 100) / 100,
      igraph_over_wasm_p95: Math.round((I.p95_ms / W.p95_ms) * 100) / 100,
      ts_over_wasm_cpu: Math.round((tsCpu / wasmCpu) * 100) / 100,
      ts_same_algorithm_over_wasm_median: Math.round((TB.median_ms / W.median_ms) * 100) / 100,
      ts_same_algorithm_over_wasm_cpu: Math.round((tsbCpu / wasmCpu) * 100) / 100,
      igraph_over_wasm_cpu: Math.round(((py.cpu_ms_per_call as number) / wasmCpu) * 100) / 100,
    },
    targets: {
      wasm_at_least_2x_ts: T.median_ms / W.median_ms >= 2,
      wasm_faster_than_igraph: I.median_ms > W.median_ms,
    },
    checks: { max_abs_diff_wasm_vs_ts: maxDiff, rel_diff_sum_wasm_vs_igraph: igraphDiff },
    load_average: { start: load0, end: await loadAverage() },
    command: "deno task bench:wasm_dijkstra",
    date: new Date().toISOString(),
  };
  const cpu = (x: unknown) => `cpu/call ${fmt(x as number)} ms`;
  console.log(`WASM      median ${fmt(W.median_ms)} ms  p95 ${fmt(W.p95_ms)} ms  ${cpu(wasmCpu)}`);
  console.log(`tuned TS  median ${fmt(T.median_ms)} ms  p95 ${fmt(T.p95_ms)} ms  ${cpu(tsCpu)}`);
  console.log(
    `TS, same bucket queue  median ${fmt(TB.median_ms)} ms  p95 ${fmt(TB.p95_ms)} ms  ${
      cpu(tsbCpu)
    }`,
  );
  console.log(
    `igraph    median ${fmt(I.median_ms)} ms  p95 ${fmt(I.p95_ms)} ms  ${cpu(py.cpu_ms_per_call)}`,
  );
  console.log(
    `ratios (median): TS/WASM ${result.ratios.ts_over_wasm_median}x, ` +
      `igraph/WASM ${result.ratios.igraph_over_wasm_median}x, same-algorithm TS/WASM ` +
      `${result.ratios.ts_same_algorithm_over_wasm_median}x; (CPU time) TS/WASM ` +
      `${result.ratios.ts_over_wasm_cpu}x, igraph/WASM ${result.ratios.igraph_over_wasm_cpu}x; ` +
      `load average ${load0}`,
  );
  console.log(`checks: max |WASM - TS| = ${maxDiff}, sum rel. diff vs igraph = ${igraphDiff}`);
  await writeResult("dijkstra", result);
} finally {
  await Deno.remove(graphFile);
  await Deno.remove(sourcesFile);
}
