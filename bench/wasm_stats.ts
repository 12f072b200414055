import process from "node:process";

/**
 * Shared helpers of the WASM benchmarks: timing statistics, running the Debian python3
 * baselines, writing bench/results/wasm_<name>.json.
 *
 * @module
 */

/** Median, p95, min and mean of a sample of durations in ms. */
export interface Stats {
  runs: number;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  mean_ms: number;
}

/** Summarises durations (ms). */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    runs: s.length,
    median_ms: r(q(0.5)),
    p95_ms: r(q(0.95)),
    min_ms: r(s[0]),
    mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

/** Times `fn` `runs` times after `warmup` untimed calls; `fn` gets the run index. */
export function time(runs: number, warmup: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < warmup; i++) fn(i);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Mean process CPU time (user + system, ms) per call of `fn` over `runs` calls: on a shared
 * machine this moves far less with other people's load than wall-clock time does.
 */
export function cpuPerCall(runs: number, fn: (i: number) => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) fn(i);
  const c = process.cpuUsage(c0);
  return Math.round(((c.user + c.system) / 1000 / runs) * 1000) / 1000;
}

/**
 * The 1-minute load average, to judge how noisy a run was (needs --allow-sys=loadavg; null
 * without it).
 */
export function loadAverage(): Promise<number | null> {
  try {
    return Promise.resolve(Math.round(Deno.loadavg()[0] * 100) / 100);
  } catch {
    return Promise.resolve(null);
  }
}

/** Wall-clock and CPU samples (ms) of one implementation. */
export interface Samples {
  wall: number[];
  cpu: number[];
}

/**
 * Times several implementations interleaved (a, b, a, b, ...) so that load from other
 * processes hits them alike; each gets `warmup` untimed calls first. Records wall-clock and
 * process CPU time of every call.
 */
export function interleaved(
  runs: number,
  warmup: number,
  fns: ((i: number) => void)[],
): Samples[] {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn(i);
  const out = fns.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, j) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn(i);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      out[j].wall.push(wall);
      out[j].cpu.push((c.user + c.system) / 1000);
    });
  }
  return out;
}

/** Debian's python3 (with igraph, sklearn, numpy); the `python3` on PATH may lack them. */
export const PYTHON = "/usr/bin/python3";

/** Runs a bench/py script with arguments and parses the JSON it prints last. */
export async function python(script: string, args: string[]): Promise<Record<string, unknown>> {
  const path = new URL(`./py/${script}`, import.meta.url).pathname;
  const out = await new Deno.Command(PYTHON, {
    args: [path, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return JSON.parse(text.split("\n").pop()!);
}

/** Writes the result JSON and prints where. */
export async function writeResult(name: string, result: unknown): Promise<void> {
  const path = new URL(`./results/wasm_${name}.json`, import.meta.url).pathname;
  await Deno.writeTextFile(path, JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path}`);
}

/** Rounds for printing. */
export function fmt(x: number, digits = 2): string {
  return x.toFixed(digits);
}
