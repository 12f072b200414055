/**
 * Reads one cgroup's CPU time and memory, on cgroup v2 (cpu.stat usage_usec, memory.current,
 * memory.max) or v1 (cpuacct.usage, memory.usage_in_bytes, memory.limit_in_bytes), so the host
 * collector can watch one router of a shared-kernel testbed instead of the whole host.
 *
 * @module
 */
import { UnavailableError, ValidationError } from "../../errors.ts";
import { readKernelFile } from "../../host/kernel_files.ts";

/** Cumulative usage and limits of one cgroup. */
export interface CgroupUsage {
  version: 1 | 2;
  /** Cumulative CPU time in microseconds. */
  cpuUsageUs: number;
  /** CPU limit in cores (quota / period), null when unlimited. */
  cpuLimitCores: number | null;
  /** Working set: usage minus inactive file cache. */
  memoryBytes: number;
  /** Memory limit, null when unlimited. */
  memoryLimitBytes: number | null;
}

/** Files to read for one cgroup. */
export interface CgroupPaths {
  version: 1 | 2;
  cpu: string;
  cpuQuota: string;
  memory: string;
}

const V1_UNLIMITED = 2 ** 60;

function tryRead(path: string): string | null {
  try {
    return readKernelFile(path);
  } catch {
    return null;
  }
}

/**
 * Finds the directories of `cgroup` under `root` (v2 when root has cgroup.controllers).
 *
 * @param cgroup absolute cgroup path, e.g. "/x0tb/r1"
 * @param root the cgroup mount point
 */
export function cgroupPaths(cgroup: string, root = "/sys/fs/cgroup"): CgroupPaths {
  if (!cgroup.startsWith("/") || cgroup.split("/").includes("..")) {
    throw new ValidationError(`Invalid cgroup path: ${cgroup} (absolute, no '..')`);
  }
  const rel = cgroup === "/" ? "" : cgroup.replace(/\/+$/, "");
  if (tryRead(`${root}/cgroup.controllers`) !== null) {
    const dir = `${root}${rel}`;
    return { version: 2, cpu: dir, cpuQuota: dir, memory: dir };
  }
  const cpuacct = tryRead(`${root}/cpuacct/cpuacct.usage`) !== null
    ? `${root}/cpuacct`
    : `${root}/cpu,cpuacct`;
  const cpu = tryRead(`${root}/cpu/cpu.cfs_quota_us`) !== null ? `${root}/cpu` : cpuacct;
  return {
    version: 1,
    cpu: `${cpuacct}${rel}`,
    cpuQuota: `${cpu}${rel}`,
    memory: `${root}/memory${rel}`,
  };
}

function keyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

function integer(text: string | null, what: string): number {
  const t = text?.trim() ?? "";
  if (!/^-?\d+$/.test(t)) {
    throw new UnavailableError(`Cannot read cgroup ${what}: ${t || "missing"}`);
  }
  return Number(t);
}

/**
 * Reads a cgroup's cumulative CPU time, working set and limits.
 *
 * @param paths from cgroupPaths()
 * @throws UnavailableError when the cgroup does not exist or a file is malformed
 */
export function readCgroupUsage(paths: CgroupPaths): CgroupUsage {
  if (paths.version === 2) {
    const stat = keyed(readKernelFile(`${paths.cpu}/cpu.stat`));
    const usage = stat.get("usage_usec");
    if (usage === undefined) {
      throw new UnavailableError(`Cannot read cgroup cpu.stat: no usage_usec`);
    }
    const [quota, period] = (tryRead(`${paths.cpuQuota}/cpu.max`) ?? "max").trim().split(/\s+/);
    const current = integer(tryRead(`${paths.memory}/memory.current`), "memory.current");
    const max = (tryRead(`${paths.memory}/memory.max`) ?? "max").trim();
    const inactive = keyed(tryRead(`${paths.memory}/memory.stat`) ?? "").get("inactive_file") ?? 0;
    return {
      version: 2,
      cpuUsageUs: usage,
      cpuLimitCores: quota === "max" || !period ? null : Number(quota) / Number(period),
      memoryBytes: Math.max(0, current - inactive),
      memoryLimitBytes: max === "max" ? null : Number(max),
    };
  }
  const usageNs = integer(tryRead(`${paths.cpu}/cpuacct.usage`), "cpuacct.usage");
  const quota = Number(tryRead(`${paths.cpuQuota}/cpu.cfs_quota_us`)?.trim() ?? "-1");
  const period = Number(tryRead(`${paths.cpuQuota}/cpu.cfs_period_us`)?.trim() ?? "100000");
  const usage = integer(tryRead(`${paths.memory}/memory.usage_in_bytes`), "memory.usage_in_bytes");
  const limit = integer(tryRead(`${paths.memory}/memory.limit_in_bytes`), "memory.limit_in_bytes");
  const stat = keyed(tryRead(`${paths.memory}/memory.stat`) ?? "");
  const inactive = stat.get("total_inactive_file") ?? stat.get("inactive_file") ?? 0;
  return {
    version: 1,
    cpuUsageUs: usageNs / 1000,
    cpuLimitCores: quota > 0 && period > 0 ? quota / period : null,
    memoryBytes: Math.max(0, usage - inactive),
    memoryLimitBytes: limit >= V1_UNLIMITED ? null : limit,
  };
}
