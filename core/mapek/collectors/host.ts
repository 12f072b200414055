/**
 * Host collector: cpu_percent, memory_percent and load1 of this router. On a real router it
 * reads /proc/stat, /proc/meminfo and /proc/loadavg; pointed at a cgroup (the testbed gives each
 * router one) it reports the cgroup's CPU share of its quota (or of all CPUs) from usage deltas
 * and its working set against its memory limit (or the host's memory).
 *
 * @module
 */
import { UnavailableError } from "../../errors.ts";
import { readKernelFile } from "../../host/kernel_files.ts";
import { type Collector, finiteValues, type Sample } from "../monitor.ts";
import { type CgroupPaths, cgroupPaths, readCgroupUsage } from "./cgroup.ts";

/** CPU jiffies summed over all CPUs: busy and total. */
export interface CpuTimes {
  busy: number;
  total: number;
  cpus: number;
}

/** Parses /proc/stat: the aggregate "cpu" line (busy = total - idle - iowait) and the CPU count. */
export function parseProcStat(text: string): CpuTimes {
  const lines = text.split("\n");
  const agg = lines.find((l) => l.startsWith("cpu "));
  if (!agg) throw new UnavailableError("Cannot parse /proc/stat: no aggregate cpu line");
  const f = agg.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new UnavailableError(`Cannot parse /proc/stat: ${agg}`);
  }
  // guest and guest_nice (fields 9, 10) are already counted in user and nice.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length || 1;
  return { busy: total - idle, total, cpus };
}

/** Parses /proc/meminfo into bytes: total and available. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const kb = (name: string) => {
    const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable") ?? ((kb("MemFree") ?? 0) + (kb("Cached") ?? 0));
  if (!total) throw new UnavailableError("Cannot parse /proc/meminfo: no MemTotal");
  return { totalBytes: total, availableBytes: available };
}

/** Percent of `delta` over `span`, clamped to [0, 100]; undefined without a span. */
function percent(delta: number, span: number): number | undefined {
  if (!(span > 0)) return undefined;
  return Math.min(100, Math.max(0, (delta / span) * 100));
}

/** Options of the host collector. */
export interface HostCollectorOptions {
  /** Read this cgroup instead of the whole host. */
  cgroup?: string | null;
  /** Mount point of the cgroup hierarchies. */
  cgroupRoot?: string;
  /** Clock (epoch ms). */
  now?: () => number;
}

/** A host collector; `read()` also serves re-measurement after an action. */
export interface HostCollector extends Collector {
  /** "host" or "cgroup:<path>". */
  readonly scope: string;
  /** Reads synchronously (the host's files are local). */
  collect(): Sample[];
}

/**
 * Creates the host collector. CPU is a delta since the previous reading, so the first sample
 * has no cpu_percent.
 *
 * @param options cgroup mode and clock
 */
export function hostCollector(options: HostCollectorOptions = {}): HostCollector {
  const now = options.now ?? Date.now;
  const cgroup = options.cgroup ?? null;
  let paths: CgroupPaths | undefined;
  let prevHost: CpuTimes | undefined;
  let prevCg: { usageUs: number; at: number } | undefined;

  const load1 = () => {
    try {
      return Number(readKernelFile("/proc/loadavg").split(" ")[0]);
    } catch {
      return undefined;
    }
  };

  const readHost = (): Record<string, number | undefined> => {
    const cpu = parseProcStat(readKernelFile("/proc/stat"));
    const mem = parseMeminfo(readKernelFile("/proc/meminfo"));
    const cpuPercent = prevHost
      ? percent(cpu.busy - prevHost.busy, cpu.total - prevHost.total)
      : undefined;
    prevHost = cpu;
    return {
      cpu_percent: cpuPercent,
      memory_percent: percent(mem.totalBytes - mem.availableBytes, mem.totalBytes),
      memory_bytes: mem.totalBytes - mem.availableBytes,
      load1: load1(),
      cpus: cpu.cpus,
    };
  };

  const readCgroup = (cg: string): Record<string, number | undefined> => {
    paths ??= cgroupPaths(cg, options.cgroupRoot);
    const at = performance.now();
    const u = readCgroupUsage(paths);
    const host = parseProcStat(readKernelFile("/proc/stat"));
    const cores = u.cpuLimitCores ?? host.cpus;
    const cpuPercent = prevCg
      ? percent(u.cpuUsageUs - prevCg.usageUs, (at - prevCg.at) * 1000 * cores)
      : undefined;
    prevCg = { usageUs: u.cpuUsageUs, at };
    const hostMem = parseMeminfo(readKernelFile("/proc/meminfo")).totalBytes;
    const limit = Math.min(u.memoryLimitBytes ?? hostMem, hostMem);
    return {
      cpu_percent: cpuPercent,
      memory_percent: percent(u.memoryBytes, limit),
      memory_bytes: u.memoryBytes,
      memory_limit_bytes: limit,
      cpu_limit_cores: cores,
      load1: load1(),
    };
  };

  return {
    kind: "host",
    scope: cgroup ? `cgroup:${cgroup}` : "host",
    collect(): Sample[] {
      const values = cgroup ? readCgroup(cgroup) : readHost();
      return [{
        collector: "host",
        target: "node",
        at: now(),
        values: finiteValues(values),
        labels: { scope: cgroup ? `cgroup:${cgroup}` : "host" },
      }];
    },
  };
}
