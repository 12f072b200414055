/**
 * Monitor phase of the MAPE-K loop: collectors of one shape (host, links, services, eBPF)
 * produce samples; the monitor runs them together each cycle, keeps the last N samples of every
 * series in bounded ring buffers, and hands the analyzer one snapshot.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { createRingBuffer, type RingBuffer } from "./ring_buffer.ts";

/** Which collector produced a sample. */
export type CollectorKind = "host" | "links" | "services" | "ebpf";

/** One measurement of one target at one time. */
export interface Sample {
  collector: CollectorKind;
  /** What was measured: "node" for the host, a peer id, a service name, an interface. */
  target: string;
  /** Epoch milliseconds. */
  at: number;
  /** Numeric readings (absent when not measurable this time, never NaN). */
  values: Record<string, number>;
  /** Descriptive fields (interface, address, state). */
  labels?: Record<string, string>;
}

/** A source of samples; every collector has this shape. */
export interface Collector {
  kind: CollectorKind;
  /** Takes one reading of every target; throws when the source cannot be read at all. */
  collect(): Sample[] | Promise<Sample[]>;
}

/** One cycle's readings. */
export interface Snapshot {
  at: number;
  samples: Sample[];
  /** Collectors that failed this cycle, with the reason. */
  errors: { collector: CollectorKind; error: string }[];
}

/** The monitor: runs collectors and keeps their history. */
export interface Monitor {
  /** Runs every collector once (concurrently) and records the samples. */
  collect(): Promise<Snapshot>;
  /** History of one series, oldest first. */
  history(collector: CollectorKind, target: string): Sample[];
  /** Targets with history for a collector. */
  targets(collector: CollectorKind): string[];
  /** The last snapshot, if any. */
  latest(): Snapshot | undefined;
}

/**
 * Creates a monitor over `collectors`.
 *
 * @param collectors the sources, run in parallel each cycle
 * @param options ring-buffer size per series, the per-collector timeout, and a clock
 */
export function createMonitor(
  collectors: Collector[],
  options: { historySize?: number; timeoutMs?: number; now?: () => number } = {},
): Monitor {
  const historySize = options.historySize ?? 600;
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? Date.now;
  const series = new Map<string, RingBuffer<Sample>>();
  let latest: Snapshot | undefined;

  const withTimeout = async (c: Collector): Promise<Sample[]> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`collector ${c.kind} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(() => c.collect()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async collect() {
      const at = now();
      const results = await Promise.allSettled(collectors.map(withTimeout));
      const samples: Sample[] = [];
      const errors: Snapshot["errors"] = [];
      results.forEach((r, i) => {
        if (r.status === "fulfilled") samples.push(...r.value);
        else errors.push({ collector: collectors[i].kind, error: errorMessage(r.reason) });
      });
      for (const s of samples) {
        const key = `${s.collector}\u0000${s.target}`;
        let ring = series.get(key);
        if (!ring) series.set(key, ring = createRingBuffer(historySize));
        ring.push(s);
      }
      latest = { at, samples, errors };
      return latest;
    },
    history: (collector, target) => series.get(`${collector}\u0000${target}`)?.toArray() ?? [],
    targets: (collector) =>
      [...series.keys()].filter((k) => k.startsWith(`${collector}\u0000`)).map((k) =>
        k.slice(collector.length + 1)
      ),
    latest: () => latest,
  };
}

/** Drops undefined, null and non-finite readings so samples never carry NaN. */
export function finiteValues(
  values: Record<string, number | null | undefined>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
