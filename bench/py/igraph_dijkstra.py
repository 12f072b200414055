"""Dijkstra baseline for bench/wasm_dijkstra.ts: python3-igraph (Debian) on the same graph.

Usage: igraph_dijkstra.py GRAPH_FILE SOURCES_FILE RUNS WARMUP
GRAPH_FILE: int32 n, int32 m, then m int32 sources, m int32 targets, m float64 weights
(undirected links). Prints one JSON line: per-run times (ms) of the computation only
(g.distances from one source; the graph is built before timing) and the distances of the
first source for a cross-check (sum and count of finite ones).
"""
import json
import math
import sys
import time

import igraph
import numpy as np


def main():
    path, sources_path, runs, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    raw = open(path, "rb").read()
    n, m = np.frombuffer(raw, dtype=np.int32, count=2)
    off = 8
    src = np.frombuffer(raw, dtype=np.int32, count=m, offset=off)
    dst = np.frombuffer(raw, dtype=np.int32, count=m, offset=off + 4 * m)
    w = np.frombuffer(raw, dtype=np.float64, count=m, offset=off + 8 * m)
    sources = [int(x) for x in open(sources_path).read().split()]
    g = igraph.Graph(n=int(n), edges=np.column_stack((src, dst)).tolist(), directed=False)
    g.es["weight"] = w.tolist()
    for i in range(warmup):
        g.distances(source=sources[i % len(sources)], weights="weight")
    times = []
    c0 = time.process_time()
    for i in range(runs):
        s = sources[i % len(sources)]
        t0 = time.perf_counter()
        g.distances(source=s, weights="weight")
        times.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - c0) * 1000 / runs
    d = g.distances(source=sources[0], weights="weight")[0]
    finite = [x for x in d if not math.isinf(x)]
    print(json.dumps({
        "times_ms": times,
        "cpu_ms_per_call": cpu,
        "check_sum": sum(finite),
        "check_reachable": len(finite),
        "igraph": igraph.__version__,
    }))


main()
