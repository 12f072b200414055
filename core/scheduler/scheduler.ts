/**
 * Periodic tasks inside the agent (mesh probing, MAPE-K cycles, housekeeping). Each task runs
 * on its own interval with jitter, never overlaps itself, has its duration measured, survives a
 * failing run (logged and counted), and stops cleanly: stop() aborts the running call's signal
 * and waits for it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage, ValidationError } from "../errors.ts";
import { Counter, Histogram, metric, registry } from "../telemetry/metrics.ts";
import { withSpan } from "../telemetry/tracing.ts";

const log = getLogger(["x0", "scheduler"]);

const taskDuration = metric("scheduler_task_duration_seconds", () =>
  new Histogram({
    name: "scheduler_task_duration_seconds",
    help: "Duration of scheduled task runs in seconds",
    labelNames: ["task"] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  }));

const taskRuns = metric("scheduler_task_runs_total", () =>
  new Counter({
    name: "scheduler_task_runs_total",
    help: "Scheduled task runs by result (ok, error)",
    labelNames: ["task", "result"] as const,
    registers: [registry],
  }));

/** One periodic task. */
export interface TaskSpec {
  /** Unique name; the metric label and log field. */
  name: string;
  /** Nominal time between the starts of two runs. */
  intervalMs: number;
  /** Fraction of the interval by which each delay varies, uniformly, in [0, 1). Default 0.1. */
  jitter?: number;
  /** Run once right away at start instead of after the first interval. Default false. */
  runAtStart?: boolean;
  /** Wrap each run in an OTel span `task <name>` (default true; off for very frequent tasks). */
  trace?: boolean;
  /** The work; `signal` aborts when the scheduler stops. */
  run: (signal: AbortSignal) => Promise<void> | void;
}

/** What the scheduler reports about one task. */
export interface TaskState {
  name: string;
  runs: number;
  failures: number;
  running: boolean;
  lastError?: string;
  lastDurationMs?: number;
}

/** A running set of periodic tasks. */
export interface Scheduler {
  /** Adds a task; it starts at once if the scheduler is running. */
  add(spec: TaskSpec): void;
  /** Starts every task. */
  start(): void;
  /** Runs a task now (if it is not running already), without waiting for its interval. */
  trigger(name: string): void;
  /** Stops scheduling, aborts running calls and waits for them (at most `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
  /** Current state of every task. */
  tasks(): TaskState[];
}

/**
 * The delay before the next run: the interval varied uniformly by ±jitter·interval.
 *
 * @param intervalMs nominal interval
 * @param jitter fraction in [0, 1)
 * @param random a uniform [0, 1) source (tests pass their own)
 */
export function jitteredDelay(intervalMs: number, jitter: number, random = Math.random): number {
  return intervalMs * (1 + jitter * (2 * random() - 1));
}

/** Creates a stopped scheduler. */
export function createScheduler(): Scheduler {
  interface Entry {
    spec: Required<Omit<TaskSpec, "run">> & Pick<TaskSpec, "run">;
    state: TaskState;
    timer?: ReturnType<typeof setTimeout>;
    inflight?: Promise<void>;
  }
  const entries = new Map<string, Entry>();
  let running = false;
  let abort = new AbortController();

  const schedule = (entry: Entry, delayMs: number) => {
    if (!running) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      fire(entry);
    }, Math.max(0, delayMs));
  };

  const fire = (entry: Entry) => {
    if (!running || entry.state.running) return;
    const started = performance.now();
    entry.state.running = true;
    if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    entry.inflight = (async () => {
      try {
        if (entry.spec.trace) {
          await withSpan(`task ${entry.spec.name}`, () => entry.spec.run(abort.signal), {
            attributes: { "x0.task": entry.spec.name },
          });
        } else {
          await entry.spec.run(abort.signal);
        }
        taskRuns.inc({ task: entry.spec.name, result: "ok" });
      } catch (err) {
        entry.state.failures++;
        entry.state.lastError = errorMessage(err);
        taskRuns.inc({ task: entry.spec.name, result: "error" });
        if (!abort.signal.aborted) {
          log.error("Task {task} failed: {error}", {
            task: entry.spec.name,
            error: errorMessage(err),
          });
        }
      } finally {
        const elapsed = performance.now() - started;
        entry.state.runs++;
        entry.state.running = false;
        entry.state.lastDurationMs = elapsed;
        taskDuration.observe({ task: entry.spec.name }, elapsed / 1000);
        entry.inflight = undefined;
        // Fixed rate with no overlap: the next start is one jittered interval after this
        // start, or right away when the run took longer than that.
        schedule(entry, jitteredDelay(entry.spec.intervalMs, entry.spec.jitter) - elapsed);
      }
    })();
  };

  return {
    add(spec) {
      if (entries.has(spec.name)) throw new ValidationError(`Task already scheduled: ${spec.name}`);
      if (!(spec.intervalMs > 0) || !Number.isFinite(spec.intervalMs)) {
        throw new ValidationError(
          `Task ${spec.name} needs a positive interval: ${spec.intervalMs}`,
        );
      }
      const jitter = spec.jitter ?? 0.1;
      if (!(jitter >= 0 && jitter < 1)) {
        throw new ValidationError(`Task ${spec.name} jitter must be in [0, 1): ${jitter}`);
      }
      const entry: Entry = {
        spec: { ...spec, jitter, runAtStart: spec.runAtStart ?? false, trace: spec.trace ?? true },
        state: { name: spec.name, runs: 0, failures: 0, running: false },
      };
      entries.set(spec.name, entry);
      if (running) start(entry);
    },
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      for (const entry of entries.values()) start(entry);
    },
    trigger(name) {
      const entry = entries.get(name);
      if (!entry) throw new ValidationError(`No such task: ${name}`);
      fire(entry);
    },
    async stop(timeoutMs = 5000) {
      running = false;
      abort.abort(new Error("Scheduler stopped"));
      const pending: Promise<void>[] = [];
      for (const entry of entries.values()) {
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entry.timer = undefined;
        if (entry.inflight) pending.push(entry.inflight);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
      await Promise.race([Promise.all(pending).then(() => {}), timeout]);
      clearTimeout(timer);
    },
    tasks() {
      return [...entries.values()].map((e) => ({ ...e.state }));
    },
  };

  function start(entry: Entry) {
    if (entry.spec.runAtStart) fire(entry);
    else schedule(entry, jitteredDelay(entry.spec.intervalMs, entry.spec.jitter));
  }
}
