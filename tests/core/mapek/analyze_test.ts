import assert from "node:assert/strict";
import { createOnlineForest } from "../../../core/mapek/anomaly.ts";
import { createAnalyzer, FEATURES } from "../../../core/mapek/analyze.ts";
import { loadCore } from "../../../wasm/core.ts";
import { scriptedMonitor } from "./helpers.ts";

const base = {
  nodeId: "r1",
  cpuPercent: 90,
  memoryPercent: 85,
  packetLossPercent: 5,
  anomalyScore: 0.75,
  sustainCycles: 3,
  serviceFailures: 2,
};

Deno.test("analyze() diagnoses High CPU only after cpu_percent stays above the threshold for the sustain window", async () => {
  const analyzer = createAnalyzer(base);
  const { monitor, next } = scriptedMonitor();
  const cpu = [95, 96, 50, 95, 97, 99];
  const found: number[] = [];
  for (const [i, v] of cpu.entries()) {
    const a = analyzer.analyze(
      await next({ host: { cpu_percent: v, memory_percent: 10 } }),
      monitor,
    );
    if (a.diagnoses.some((d) => d.type === "high_cpu")) found.push(i);
  }
  assert.deepEqual(found, [5]);
});

Deno.test("analyze() uses the configured thresholds, and confidence grows with how far they are exceeded", async () => {
  const confidence = async (cpu: number) => {
    const analyzer = createAnalyzer({ ...base, cpuPercent: 50, sustainCycles: 1 });
    const { monitor, next } = scriptedMonitor();
    const a = analyzer.analyze(
      await next({ host: { cpu_percent: cpu, memory_percent: 10 } }),
      monitor,
    );
    return a.diagnoses.find((d) => d.type === "high_cpu")?.confidence;
  };
  assert.equal(await confidence(49), undefined);
  const low = await confidence(55), high = await confidence(100);
  assert.ok(low !== undefined && high !== undefined && low < high, `${low} < ${high}`);
  assert.equal(high, 1);
});

Deno.test("analyze() reports High Memory with the node as target and the readings as evidence", async () => {
  const analyzer = createAnalyzer({ ...base, sustainCycles: 2 });
  const { monitor, next } = scriptedMonitor();
  await next({ host: { cpu_percent: 5, memory_percent: 90 } });
  const a = analyzer.analyze(await next({ host: { cpu_percent: 5, memory_percent: 91 } }), monitor);
  analyzer.analyze(await next({ host: { cpu_percent: 5, memory_percent: 91 } }), monitor);
  const d = a.diagnoses.find((x) => x.type === "high_memory");
  // The first analysed cycle only had one sample in history (the analyzer was not run on the
  // first), yet history comes from the monitor, so two samples are there.
  assert.ok(d);
  assert.deepEqual(d.target, { kind: "node", id: "r1" });
  assert.deepEqual(d.evidence.values, [90, 91]);
  assert.equal(d.signature, "high_memory:node");
  assert.equal(a.healthy, false);
});

Deno.test("analyze() diagnoses an exited service at once and a failing one after service_failures cycles", async () => {
  const analyzer = createAnalyzer(base);
  const { monitor, next } = scriptedMonitor();
  const host = { cpu_percent: 5, memory_percent: 10 };
  let a = analyzer.analyze(
    await next({ host, services: { web: { up: 0, exited: 1 }, db: { up: 0 } } }),
    monitor,
  );
  assert.deepEqual(a.diagnoses.map((d) => [d.type, d.target.id, d.confidence]), [[
    "service_down",
    "web",
    1,
  ]]);
  a = analyzer.analyze(
    await next({ host, services: { web: { up: 1, exited: 0 }, db: { up: 0 } } }),
    monitor,
  );
  assert.deepEqual(a.diagnoses.map((d) => [d.type, d.target.id]), [["service_down", "db"]]);
  a = analyzer.analyze(await next({ host, services: { web: { up: 1 }, db: { up: 1 } } }), monitor);
  assert.deepEqual(a.diagnoses, []);
  assert.equal(a.healthy, true);
});

Deno.test("analyze() localises sustained loss on one link to that link and on all links to this node", async () => {
  const analyzer = createAnalyzer({ ...base, sustainCycles: 2 });
  const { monitor, next } = scriptedMonitor();
  const host = { cpu_percent: 5, memory_percent: 10 };
  await next({ host, links: { r2: 30, r3: 0 } });
  let a = analyzer.analyze(await next({ host, links: { r2: 35, r3: 0 } }), monitor);
  assert.deepEqual(a.diagnoses.map((d) => [d.type, d.target.kind, d.target.id, d.target.peer]), [
    ["network_loss", "link", "r1|r2", "r2"],
  ]);
  await next({ host, links: { r2: 30, r3: 40 } });
  a = analyzer.analyze(await next({ host, links: { r2: 30, r3: 40 } }), monitor);
  assert.deepEqual(a.diagnoses.map((d) => [d.target.kind, d.target.id]), [["node", "r1"], [
    "node",
    "r1",
  ]]);
});

Deno.test("analyze() leaves a dead (OFFLINE) neighbour to the mesh's fast reroute", async () => {
  const analyzer = createAnalyzer({ ...base, sustainCycles: 1 });
  const { monitor, next } = scriptedMonitor();
  const a = analyzer.analyze(
    await next({
      host: { cpu_percent: 5, memory_percent: 10 },
      links: { r2: 100, r3: 0 },
      offline: ["r2"],
    }),
    monitor,
  );
  assert.deepEqual(a.diagnoses, []);
});

Deno.test("analyze() uses remote link measurements to blame a neighbour", async () => {
  const analyzer = createAnalyzer({
    ...base,
    sustainCycles: 1,
    remoteLinks: () => [{ a: "r2", b: "r4", loss_percent: 50 }],
  });
  const { monitor, next } = scriptedMonitor();
  const a = analyzer.analyze(
    await next({ host: { cpu_percent: 5, memory_percent: 10 }, links: { r2: 30, r3: 0 } }),
    monitor,
  );
  assert.deepEqual(a.diagnoses.map((d) => [d.target.kind, d.target.id]), [["neighbour", "r2"]]);
});

Deno.test("the online Isolation Forest (WASM core) learns healthy cycles and flags a sustained outlier as an anomaly", async () => {
  const core = await loadCore();
  const forest = createOnlineForest((rows) => core.fitForest(rows, { trees: 100, seed: 3 }), {
    cols: FEATURES.length,
    minSamples: 128,
  });
  try {
    const analyzer = createAnalyzer({ ...base, forest, anomalyScore: 0.6 });
    const { monitor, next } = scriptedMonitor();
    let seed = 5;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 128; i++) {
      const a = analyzer.analyze(
        await next({
          host: { cpu_percent: 10 + rand() * 10, memory_percent: 30 + rand() * 5 },
          links: { r2: 0 },
        }),
        monitor,
      );
      assert.equal(a.healthy, true);
    }
    assert.deepEqual(forest.stats(), { rows: 128, fits: 1 });
    // Normal-looking cycles score low.
    const normal = analyzer.analyze(
      await next({ host: { cpu_percent: 15, memory_percent: 32 }, links: { r2: 0 } }),
      monitor,
    );
    assert.ok(normal.anomalyScore! < 0.55, `normal score ${normal.anomalyScore}`);
    // Below every rule threshold, but far from this node's history: an anomaly after 3 cycles.
    const odd = { host: { cpu_percent: 80, memory_percent: 80 }, links: { r2: 4 } };
    let a = analyzer.analyze(await next(odd), monitor);
    assert.ok(a.anomalyScore! > 0.6, `odd score ${a.anomalyScore}`);
    assert.deepEqual(a.diagnoses, []);
    analyzer.analyze(await next(odd), monitor);
    a = analyzer.analyze(await next(odd), monitor);
    assert.deepEqual(a.diagnoses.map((d) => [d.type, d.signature]), [["anomaly", "anomaly:node"]]);
    // Cycles below every rule count as healthy and are learnt, but a refit needs minSamples
    // new rows, so three outliers cannot teach the forest that they are normal.
    assert.equal(forest.stats().fits, 1);
  } finally {
    forest.free();
  }
});

Deno.test("createOnlineForest() rejects rows of the wrong width or with non-finite values", () => {
  const forest = createOnlineForest(() => ({ score: () => [0.5], free: () => {} }), { cols: 2 });
  assert.throws(() => forest.learn([1]), /must have 2 finite values/);
  assert.throws(() => forest.score([1, NaN]), /must have 2 finite values/);
  assert.equal(forest.score([1, 2]), null);
});
