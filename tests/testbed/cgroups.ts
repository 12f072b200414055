/**
 * Per-router cgroups for the netns testbed. All routers share one kernel, so /proc/stat and
 * /proc/meminfo are host-wide; each router's agent (and everything started "in" the router) runs
 * in its own cgroup `/<prefix>/<router>`, with a CPU quota and a memory limit, and the agent's
 * host collector reads that cgroup (`mapek.cgroup`). cgroup v2 is used when a v2 hierarchy has
 * the cpu and memory controllers available, else v1 (cpu, cpuacct and memory hierarchies).
 *
 * Deno refuses /sys without --allow-all, so every read and write here goes through `sh`.
 *
 * @module
 */
import { run } from "./netns.ts";

/** The cgroup hierarchy the testbed uses on this host. */
export interface CgroupHost {
  version: 1 | 2;
  /** Mount point passed to the agent as `mapek.cgroup_root`. */
  root: string;
  /** Hierarchy directories a router's cgroup is created in (v2: [root]; v1: cpuacct, cpu, memory). */
  mounts: string[];
  /** Hierarchy holding the CPU quota files (v1: the cpu controller). */
  cpuMount: string;
  /** Hierarchy holding the memory controller. */
  memoryMount: string;
}

/** Limits of each router's cgroup; null leaves a resource unlimited. */
export interface CgroupLimits {
  /** CPU quota in cores (the collector reports CPU percent of this). */
  cpu_cores?: number | null;
  /** Memory limit in MiB (the collector reports memory percent of this). */
  memory_mib?: number | null;
  /**
   * CPU weight relative to a plain process (1 = default: v1 cpu.shares 1024, v2 cpu.weight 100).
   * A router that must reach its quota on a busy shared host (fault tests) gets more; the quota
   * still caps it.
   */
  cpu_weight?: number | null;
}

/**
 * Default limits: one core (a one-thread busy loop saturates it; an agent alone is never
 * throttled by it) and 768 MiB.
 */
export const DEFAULT_LIMITS: Required<CgroupLimits> = {
  cpu_cores: 1,
  memory_mib: 768,
  cpu_weight: null,
};

/**
 * Realtime budget per router on cgroup v1 (µs per second): a new v1 cpu group has none, which
 * would make sched_setscheduler(SCHED_FIFO) fail for the liveness helper inside a router.
 */
export const RT_RUNTIME_US = 10_000;

const DETECT = `
has() { [ -f "$1" ] && grep -qw cpu "$1" && grep -qw memory "$1"; }
if has /sys/fs/cgroup/cgroup.controllers; then echo "2 /sys/fs/cgroup"; exit 0; fi
if has /sys/fs/cgroup/unified/cgroup.controllers; then echo "2 /sys/fs/cgroup/unified"; exit 0; fi
acct=""
for d in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct; do
  [ -f "$d/cpuacct.usage" ] && { acct=$(readlink -f "$d"); break; }
done
cpu=""
for d in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
  [ -f "$d/cpu.cfs_quota_us" ] && { cpu=$(readlink -f "$d"); break; }
done
mem=$(readlink -f /sys/fs/cgroup/memory 2>/dev/null)
if [ -n "$acct" ] && [ -n "$cpu" ] && [ -f "$mem/memory.limit_in_bytes" ]; then
  echo "1 /sys/fs/cgroup $acct $cpu $mem"
fi
`;

/** Finds the cgroup hierarchy to use, or null when there is none usable (or not root). */
export async function detectCgroupHost(): Promise<CgroupHost | null> {
  if (Deno.uid() !== 0) return null;
  const r = await run("sh", ["-c", DETECT]);
  const [version, root, ...dirs] = r.stdout.trim().split(/\s+/);
  if (version === "2") {
    return { version: 2, root, mounts: [root], cpuMount: root, memoryMount: root };
  }
  if (version === "1") {
    const [, cpu, memory] = dirs;
    return { version: 1, root, mounts: [...new Set(dirs)], cpuMount: cpu, memoryMount: memory };
  }
  return null;
}

/** The directories of one cgroup path (e.g. "/x0tb1a2b/r1") in every hierarchy used. */
export function cgroupDirs(host: CgroupHost, cgroup: string): string[] {
  return host.mounts.map((m) => `${m}${cgroup}`);
}

/** Shell-quotes one word. */
export function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Shell commands that move the running shell (`$$`) into a cgroup, exiting 111 when it cannot:
 * put before `exec` so the program and all its children start inside the cgroup.
 */
export function joinCgroupScript(dirs: string[]): string {
  return dirs.map((d) => `echo $$ > ${shq(`${d}/cgroup.procs`)} || exit 111; `).join("");
}

/**
 * Shell commands that mount the cgroup hierarchies again at their usual places, exiting 112 when
 * they cannot. `ip netns exec` gives the program a private mount namespace with a fresh /sys for
 * the network namespace, which hides /sys/fs/cgroup; an agent that reads its cgroup runs these
 * first (the mounts live and die with that mount namespace).
 */
export function remountCgroupsScript(host: CgroupHost): string {
  const lines: string[] = [];
  if (host.version === 2 && host.root === "/sys/fs/cgroup") {
    lines.push("mount -t cgroup2 cgroup2 /sys/fs/cgroup");
  } else {
    lines.push("mount -t tmpfs -o mode=755 x0cgroup /sys/fs/cgroup");
    for (const m of host.mounts) {
      lines.push(`mkdir -p ${shq(m)}`);
      lines.push(
        host.version === 2
          ? `mount -t cgroup2 cgroup2 ${shq(m)}`
          : `mount -t cgroup -o ${shq(m.split("/").pop()!)} cgroup ${shq(m)}`,
      );
    }
  }
  return lines.map((l) => `${l} || exit 112; `).join("");
}

async function sh(script: string): Promise<void> {
  const r = await run("sh", ["-c", script]);
  if (r.code !== 0) throw new Error(`Cannot set up cgroups: ${r.stderr.trim() || script}`);
}

/**
 * Creates the run's cgroup `/<prefix>` and one child per router with the given limits.
 * Returns each router's cgroup path and directories, and the run-level directories.
 *
 * @param host from detectCgroupHost()
 * @param prefix the run prefix (`x0tb<hex>`)
 * @param names router names
 * @param limits CPU quota and memory limit of every router
 */
export async function createRouterCgroups(
  host: CgroupHost,
  prefix: string,
  names: string[],
  limits: CgroupLimits = {},
): Promise<{ parents: string[]; routers: Map<string, { cgroup: string; dirs: string[] }> }> {
  const cores = limits.cpu_cores === undefined ? DEFAULT_LIMITS.cpu_cores : limits.cpu_cores;
  const mib = limits.memory_mib === undefined ? DEFAULT_LIMITS.memory_mib : limits.memory_mib;
  const weight = limits.cpu_weight ?? null;
  if (weight !== null && !(weight >= 0.01 && weight <= 100)) {
    throw new Error(`Invalid cgroup cpu_weight: ${weight} (0.01 to 100)`);
  }
  const parents = cgroupDirs(host, `/${prefix}`);
  const lines: string[] = ["set -e"];
  for (const p of parents) lines.push(`mkdir -p ${shq(p)}`);
  if (host.version === 1) {
    // The parent's realtime budget must cover its children's; best effort (the host may have
    // handed out its budget, or lack RT group scheduling): the helper then runs without FIFO.
    const rt = `${host.cpuMount}/${prefix}/cpu.rt_runtime_us`;
    lines.push(`echo ${RT_RUNTIME_US * names.length} > ${shq(rt)} 2>/dev/null || true`);
  }
  if (host.version === 2) {
    // Children get cpu and memory only when every ancestor delegates them.
    lines.push(`echo "+cpu +memory" > ${shq(`${host.root}/cgroup.subtree_control`)}`);
    lines.push(`echo "+cpu +memory" > ${shq(`${parents[0]}/cgroup.subtree_control`)}`);
  }
  const routers = new Map<string, { cgroup: string; dirs: string[] }>();
  for (const name of names) {
    const cgroup = `/${prefix}/${name}`;
    const dirs = cgroupDirs(host, cgroup);
    routers.set(name, { cgroup, dirs });
    for (const d of dirs) lines.push(`mkdir -p ${shq(d)}`);
    const w = (file: string, value: string) => lines.push(`echo ${value} > ${shq(file)}`);
    if (host.version === 2) {
      if (cores !== null) w(`${dirs[0]}/cpu.max`, `"${Math.round(cores * 100_000)} 100000"`);
      if (mib !== null) w(`${dirs[0]}/memory.max`, String(mib * 2 ** 20));
      if (weight !== null) w(`${dirs[0]}/cpu.weight`, String(Math.round(weight * 100)));
    } else {
      const cpuDir = `${host.cpuMount}${cgroup}`;
      const memDir = `${host.memoryMount}${cgroup}`;
      if (cores !== null) {
        w(`${cpuDir}/cpu.cfs_period_us`, "100000");
        w(`${cpuDir}/cpu.cfs_quota_us`, String(Math.round(cores * 100_000)));
      }
      if (mib !== null) w(`${memDir}/memory.limit_in_bytes`, String(mib * 2 ** 20));
      if (weight !== null) w(`${cpuDir}/cpu.shares`, String(Math.round(weight * 1024)));
      lines.push(
        `echo ${RT_RUNTIME_US} > ${shq(`${cpuDir}/cpu.rt_runtime_us`)} 2>/dev/null || true`,
      );
    }
  }
  await sh(lines.join("\n"));
  return { parents, routers };
}

/** PIDs in a cgroup directory (empty when it does not exist). */
export async function cgroupPids(dir: string): Promise<number[]> {
  const r = await run("sh", ["-c", `cat ${shq(`${dir}/cgroup.procs`)} 2>/dev/null; true`]);
  return r.stdout.split("\n").filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

/**
 * Kills every process in the given cgroup directories and removes them (children before
 * parents: list router directories first). A directory that is already gone is fine; one that
 * stays busy for `timeoutMs` is reported.
 *
 * @returns the directories that could not be removed
 */
export async function removeCgroups(dirs: string[], timeoutMs = 5000): Promise<string[]> {
  const left: string[] = [];
  for (const dir of dirs) {
    const until = performance.now() + timeoutMs;
    for (;;) {
      for (const pid of await cgroupPids(dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
      const r = await run("sh", ["-c", `[ ! -d ${shq(dir)} ] || rmdir ${shq(dir)}`]);
      if (r.code === 0) break;
      if (performance.now() > until) {
        left.push(dir);
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return left;
}

/** Cumulative CPU time (µs) and memory (bytes) of a router's cgroup, read with `cat`. */
export async function cgroupUsage(
  host: CgroupHost,
  cgroup: string,
): Promise<{ cpuUsageUs: number; memoryBytes: number }> {
  const dirs = cgroupDirs(host, cgroup);
  const cat = async (file: string) => {
    const r = await run("cat", [file]);
    if (r.code !== 0) throw new Error(`Cannot read ${file}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  if (host.version === 2) {
    const stat = await cat(`${dirs[0]}/cpu.stat`);
    const usec = Number(/^usage_usec (\d+)/m.exec(stat)?.[1]);
    return { cpuUsageUs: usec, memoryBytes: Number(await cat(`${dirs[0]}/memory.current`)) };
  }
  const ns = Number(await cat(`${dirs[0]}/cpuacct.usage`));
  const mem = Number(await cat(`${host.memoryMount}${cgroup}/memory.usage_in_bytes`));
  return { cpuUsageUs: ns / 1000, memoryBytes: mem };
}
