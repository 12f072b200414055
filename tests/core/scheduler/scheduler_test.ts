import assert from "node:assert/strict";
import { createScheduler, jitteredDelay } from "../../../core/scheduler/scheduler.ts";
import { ValidationError } from "../../../core/errors.ts";
import { registry } from "../../../core/telemetry/metrics.ts";
import { seededRandom } from "../../../core/random/seeded_random.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("jitteredDelay() stays within interval ± jitter·interval for every draw", () => {
  const random = seededRandom(42);
  for (let i = 0; i < 10_000; i++) {
    const interval = 1 + random() * 1000;
    const jitter = random() * 0.99;
    const d = jitteredDelay(interval, jitter, random);
    assert.ok(d >= interval * (1 - jitter) - 1e-9, `${d} below bound`);
    assert.ok(d <= interval * (1 + jitter) + 1e-9, `${d} above bound`);
  }
  assert.equal(jitteredDelay(100, 0.2, () => 0), 80);
  assert.equal(jitteredDelay(100, 0.2, () => 0.5), 100);
  assert.equal(jitteredDelay(100, 0, Math.random), 100);
});

Deno.test("jitteredDelay() spreads delays over the whole jitter band", () => {
  const random = seededRandom(7);
  const delays = Array.from({ length: 2000 }, () => jitteredDelay(100, 0.3, random));
  assert.ok(Math.min(...delays) < 72, "some delays near the low bound");
  assert.ok(Math.max(...delays) > 128, "some delays near the high bound");
});

Deno.test("scheduler never runs two instances of one task at once", async () => {
  const s = createScheduler();
  let concurrent = 0;
  let maxConcurrent = 0;
  let runs = 0;
  s.add({
    name: "slow",
    intervalMs: 5,
    jitter: 0,
    runAtStart: true,
    run: async () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await sleep(30);
      runs++;
      concurrent--;
    },
  });
  s.start();
  await sleep(100);
  s.trigger("slow"); // a trigger during a run must not start a second one
  await sleep(100);
  await s.stop();
  assert.equal(maxConcurrent, 1);
  assert.ok(runs >= 4, `expected several back-to-back runs, got ${runs}`);
});

Deno.test("scheduler keeps the nominal rate for quick runs", async () => {
  const s = createScheduler();
  const starts: number[] = [];
  s.add({
    name: "tick",
    intervalMs: 20,
    jitter: 0.25,
    run: () => {
      starts.push(performance.now());
    },
  });
  s.start();
  await sleep(330);
  await s.stop();
  assert.ok(starts.length >= 10 && starts.length <= 22, `runs: ${starts.length}`);
  for (let i = 1; i < starts.length; i++) {
    const gap = starts[i] - starts[i - 1];
    // 15..25 ms by jitter, plus timer slack on a loaded machine.
    assert.ok(gap >= 14, `gap ${gap} shorter than interval - jitter`);
  }
});

Deno.test("a failing run is logged and counted and the task continues", async () => {
  const s = createScheduler();
  let runs = 0;
  s.add({
    name: "flaky-test-task",
    intervalMs: 5,
    jitter: 0,
    runAtStart: true,
    run: () => {
      runs++;
      if (runs % 2 === 1) throw new Error("boom");
    },
  });
  s.start();
  await sleep(80);
  await s.stop();
  const state = s.tasks().find((t) => t.name === "flaky-test-task")!;
  assert.ok(runs >= 4, `task kept running: ${runs}`);
  assert.ok(state.failures >= 2);
  assert.equal(state.lastError, "boom");
  const text = await registry.metrics();
  assert.match(text, /scheduler_task_runs_total\{task="flaky-test-task",result="error"\} [1-9]/);
  assert.match(text, /scheduler_task_duration_seconds_count\{task="flaky-test-task"\} [1-9]/);
});

Deno.test("stop() aborts the running call's signal, waits for it and schedules nothing more", async () => {
  const s = createScheduler();
  let finished = false;
  let aborted = false;
  let runs = 0;
  s.add({
    name: "long",
    intervalMs: 10,
    runAtStart: true,
    run: async (signal) => {
      runs++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        signal.addEventListener("abort", () => {
          aborted = true;
          clearTimeout(timer);
          setTimeout(resolve, 20);
        });
      });
      finished = true;
    },
  });
  s.start();
  await sleep(20);
  const t0 = performance.now();
  await s.stop();
  assert.ok(aborted);
  assert.ok(finished, "stop waited for the in-flight run");
  assert.ok(performance.now() - t0 < 1000);
  await sleep(50);
  assert.equal(runs, 1);
});

Deno.test("scheduler rejects bad task specs", () => {
  const s = createScheduler();
  const run = () => {};
  assert.throws(() => s.add({ name: "a", intervalMs: 0, run }), ValidationError);
  assert.throws(() => s.add({ name: "a", intervalMs: NaN, run }), ValidationError);
  assert.throws(() => s.add({ name: "a", intervalMs: 10, jitter: 1, run }), ValidationError);
  s.add({ name: "a", intervalMs: 10, run });
  assert.throws(() => s.add({ name: "a", intervalMs: 10, run }), /already scheduled/);
  assert.throws(() => s.trigger("nope"), /No such task: nope/);
});
