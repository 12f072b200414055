/**
 * Process metrics written by hand, because prom-client's collectDefaultMetrics breaks on Deno:
 * resident memory and CPU seconds from /proc/self/stat, heap from Deno.memoryUsage(), open file
 * descriptors from /proc/self/fd/. Deno 2.9 lets only --allow-all read /proc through its own
 * API, so /proc goes through core/host/kernel_files.ts; without it, memory and CPU come from
 * Deno.memoryUsage() and process.cpuUsage() and the fd count is left out.
 *
 * @module
 */
import process from "node:process";
import { kernelFilesReadable, readKernelFile } from "../host/kernel_files.ts";
import { Gauge, metric, registry } from "./metrics.ts";

/** Clock ticks per second for /proc/self/stat times; 100 on every Linux we target. */
const CLK_TCK = 100;
const PAGE_SIZE = 4096;

/** A snapshot of this process's resource use. */
export interface ProcessSample {
  resident_bytes: number;
  heap_used_bytes: number;
  heap_total_bytes: number;
  cpu_seconds: number;
  /** Null when /proc cannot be read in this process. */
  open_fds: number | null;
}

/** Parses the utime+stime and rss fields of a /proc/<pid>/stat line. */
export function parseProcStat(text: string): { cpu_seconds: number; resident_bytes: number } {
  // The command name (field 2) may contain spaces and parentheses: split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime is field 14, stime 15, rss 24.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const rss = Number(rest[21]);
  if (![utime, stime, rss].every(Number.isFinite)) {
    throw new Error(`Cannot parse /proc stat line: ${text.slice(0, 80)}`);
  }
  return { cpu_seconds: (utime + stime) / CLK_TCK, resident_bytes: rss * PAGE_SIZE };
}

/** Counts open file descriptors: list /proc/self/fd where Deno may, else probe fdinfo. */
function countOpenFds(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return countFdsByProbe();
  }
}

/**
 * Counts open descriptors by reading /proc/self/fdinfo/<n> for every n below the fd table size
 * (FDSize in /proc/self/status); a few milliseconds per scrape.
 */
function countFdsByProbe(): number {
  const status = readKernelFile("/proc/self/status");
  const size = Number(/^FDSize:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  let n = 0;
  for (let fd = 0; fd < Math.min(size, 4096); fd++) {
    try {
      readKernelFile(`/proc/self/fdinfo/${fd}`);
      n++;
    } catch {
      // Not open.
    }
  }
  return n;
}

/** Reads this process's resource use. */
export function sampleProcess(): ProcessSample {
  const mem = Deno.memoryUsage();
  const cpu = process.cpuUsage();
  let cpu_seconds = (cpu.user + cpu.system) / 1e6;
  let resident_bytes = mem.rss;
  let open_fds: number | null = null;
  if (kernelFilesReadable()) {
    const stat = parseProcStat(readKernelFile("/proc/self/stat"));
    cpu_seconds = stat.cpu_seconds;
    resident_bytes = stat.resident_bytes;
    open_fds = countOpenFds();
  }
  return {
    resident_bytes,
    heap_used_bytes: mem.heapUsed,
    heap_total_bytes: mem.heapTotal,
    cpu_seconds,
    open_fds,
  };
}

/** Registers the process gauges; each scrape reads fresh values. Idempotent. */
export function registerProcessMetrics(): void {
  if (registry.getSingleMetric("process_resident_memory_bytes")) return;
  let last: ProcessSample | undefined;
  let lastAt = 0;
  const sample = () => {
    // One /proc read serves all gauges of one scrape.
    if (!last || performance.now() - lastAt > 50) {
      last = sampleProcess();
      lastAt = performance.now();
    }
    return last;
  };
  const gauge = (name: string, help: string, pick: (s: ProcessSample) => number | null) =>
    metric(name, () =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const value = pick(sample());
          if (value === null) this.reset();
          else this.set(value);
        },
      }));
  gauge("process_resident_memory_bytes", "Resident memory size in bytes", (s) => s.resident_bytes);
  gauge("process_heap_bytes", "V8 heap used in bytes", (s) => s.heap_used_bytes);
  gauge("process_heap_total_bytes", "V8 heap allocated in bytes", (s) => s.heap_total_bytes);
  gauge(
    "process_cpu_seconds_total",
    "User and system CPU time spent in seconds",
    (s) => s.cpu_seconds,
  );
  gauge("process_open_fds", "Number of open file descriptors", (s) => s.open_fds);
}
