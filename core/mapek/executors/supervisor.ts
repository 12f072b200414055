/**
 * Process supervisor: the services declared in config with a `command` run as child processes
 * of the agent (inside the configured cgroup when there is one) and can be restarted. It does not
 * restart a dead child by itself: noticing, diagnosing and restarting is the MAPE-K loop's job,
 * and each restart is recorded as an incident. Child PIDs are kept in KV so children orphaned by
 * a killed agent are stopped on the next start instead of holding their ports.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { ServiceConfig } from "../../config/schema.ts";
import { errorMessage, NotFoundError, UnavailableError } from "../../errors.ts";
import { readKernelFile } from "../../host/kernel_files.ts";
import { cgroupPaths } from "../collectors/cgroup.ts";

const log = getLogger(["x0", "mapek", "supervisor"]);

/** What the supervisor knows of one service process. */
export interface ServiceProcess {
  name: string;
  pid: number | null;
  running: boolean;
  /** Exit code of the last run, null while running or before the first exit. */
  exitCode: number | null;
  restarts: number;
  /** Epoch ms of the last start. */
  startedAt: number | null;
}

/** Runs and restarts the supervised services. */
export interface Supervisor {
  /** Names of the supervised services. */
  names(): string[];
  /** Stops children left by a previous agent, then starts every service. */
  start(): Promise<void>;
  /** Stops (SIGTERM, then SIGKILL after the grace time) and starts a service again. */
  restart(name: string): Promise<ServiceProcess>;
  /** Current state of a service, undefined when not supervised. */
  status(name: string): ServiceProcess | undefined;
  /** Stops every child and waits for it. */
  stop(): Promise<void>;
  /** Sends a signal to every running child now (for process exit, where nothing can be awaited). */
  signalAll(signal: Deno.Signal): void;
}

/** Options of the supervisor. */
export interface SupervisorOptions {
  /** Cgroup the children join before they exec (absolute path below cgroupRoot). */
  cgroup?: string | null;
  cgroupRoot?: string;
  /** Where child PIDs are recorded for crash cleanup. */
  kv?: Deno.Kv;
  /** Time between SIGTERM and SIGKILL. */
  graceMs?: number;
}

interface Entry {
  config: ServiceConfig;
  state: ServiceProcess;
  child?: Deno.ChildProcess;
  exited?: Promise<void>;
}

const PID_KEY = ["mapek", "supervisor", "pids"] as const;

// Joins every listed cgroup.procs file, then execs the service so the PID stays the same.
const JOIN_AND_EXEC =
  'IFS=:; for f in $X0_CGROUP_PROCS; do echo $$ > "$f" || exit 111; done; unset IFS X0_CGROUP_PROCS; exec "$@"';

/**
 * Creates a supervisor for the services that have a command.
 *
 * @param services the configured services (those without a command are ignored)
 * @param options cgroup, KV for PID records, grace time
 */
export function createSupervisor(
  services: ServiceConfig[],
  options: SupervisorOptions = {},
): Supervisor {
  const entries = new Map<string, Entry>();
  for (const config of services) {
    if (config.command.length === 0 || config.restart !== "supervisor") continue;
    entries.set(config.name, {
      config,
      state: {
        name: config.name,
        pid: null,
        running: false,
        exitCode: null,
        restarts: 0,
        startedAt: null,
      },
    });
  }
  const graceMs = options.graceMs ?? 2000;
  let procsFiles: string | undefined;
  // Children inherit the agent's cgroup: join only when the agent runs outside it (the
  // testbed starts agents inside their router's cgroup, so no shell is needed there).
  if (options.cgroup && !insideCgroup(options.cgroup, options.cgroupRoot)) {
    const p = cgroupPaths(options.cgroup, options.cgroupRoot);
    procsFiles = [...new Set([p.cpu, p.cpuQuota, p.memory])].map((d) => `${d}/cgroup.procs`)
      .join(":");
  }

  const recordPids = async () => {
    if (!options.kv) return;
    const pids: Record<string, { pid: number; exe: string }> = {};
    for (const e of entries.values()) {
      if (e.state.running && e.state.pid) {
        pids[e.config.name] = { pid: e.state.pid, exe: e.config.command[0] };
      }
    }
    await options.kv.set([...PID_KEY], pids);
  };

  const spawn = (e: Entry) => {
    const [cmd, ...args] = e.config.command;
    const env = { ...e.config.env };
    let command = cmd, argv = args;
    if (procsFiles) {
      command = "/bin/sh";
      argv = ["-c", JOIN_AND_EXEC, "sh", cmd, ...args];
      env.X0_CGROUP_PROCS = procsFiles;
    }
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: argv,
        cwd: e.config.cwd ?? undefined,
        env,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (err) {
      throw new UnavailableError(`Cannot start service ${e.config.name}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    e.child = child;
    e.state.pid = child.pid;
    e.state.running = true;
    e.state.exitCode = null;
    e.state.startedAt = Date.now();
    e.exited = child.status.then((s) => {
      if (e.child !== child) return;
      e.state.running = false;
      e.state.exitCode = s.code;
      log.info("Service {service} (pid {pid}) exited with code {code}", {
        service: e.config.name,
        pid: child.pid,
        code: s.code,
      });
    });
  };

  const terminate = async (e: Entry) => {
    const child = e.child;
    if (!child) return;
    if (e.state.running) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = await Promise.race([
        child.status.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), graceMs)),
      ]);
      clearTimeout(timer);
      if (killed) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
    }
    await child.status;
    await e.exited;
    e.state.running = false;
  };

  return {
    names: () => [...entries.keys()],
    async start() {
      await killStale(options.kv);
      for (const e of entries.values()) if (!e.state.running) spawn(e);
      await recordPids();
    },
    async restart(name) {
      const e = entries.get(name);
      if (!e) throw new NotFoundError(`Service is not supervised: ${name}`);
      await terminate(e);
      spawn(e);
      e.state.restarts++;
      await recordPids();
      return { ...e.state };
    },
    status: (name) => {
      const e = entries.get(name);
      return e ? { ...e.state } : undefined;
    },
    signalAll(signal) {
      for (const e of entries.values()) {
        if (!e.state.running) continue;
        try {
          e.child?.kill(signal);
        } catch { /* already gone */ }
      }
    },
    async stop() {
      await Promise.all([...entries.values()].map(terminate));
      if (options.kv) await options.kv.delete([...PID_KEY]).catch(() => {});
    },
  };
}

/**
 * Whether this process already is in `cgroup` for CPU and memory (per /proc/self/cgroup: the
 * v2 line, or the v1 cpu, cpuacct and memory lines). False when that cannot be read.
 *
 * @param cgroup absolute cgroup path
 * @param root the hierarchy mount point (decides v1 or v2)
 */
export function insideCgroup(cgroup: string, root?: string): boolean {
  let text: string;
  try {
    text = readKernelFile("/proc/self/cgroup");
  } catch {
    return false;
  }
  return cgroupMembership(text, cgroupPaths(cgroup, root).version, cgroup);
}

/**
 * Whether a /proc/<pid>/cgroup text puts the process in `cgroup` for CPU and memory.
 *
 * @param text the file's content
 * @param version the hierarchy version in use
 * @param cgroup absolute cgroup path
 */
export function cgroupMembership(text: string, version: 1 | 2, cgroup: string): boolean {
  const want = cgroup.replace(/(.)\/+$/, "$1");
  const rows = text.split("\n").filter(Boolean).map((l) => {
    const [id, controllers, ...path] = l.split(":");
    return { id, controllers: controllers.split(","), path: path.join(":") };
  });
  if (version === 2) return rows.some((r) => r.id === "0" && r.path === want);
  return ["cpu", "cpuacct", "memory"].every((c) =>
    rows.some((r) => r.controllers.includes(c) && r.path === want)
  );
}

/** Kills children recorded by a previous agent run that are still alive with the same executable. */
async function killStale(kv: Deno.Kv | undefined): Promise<void> {
  if (!kv) return;
  const rec = await kv.get<Record<string, { pid: number; exe: string }>>([...PID_KEY]);
  for (const [name, { pid, exe }] of Object.entries(rec.value ?? {})) {
    if (!processMatches(pid, exe)) continue;
    log.warning("Stopping service {service} (pid {pid}) left by a previous agent", {
      service: name,
      pid,
    });
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone meanwhile */ }
    for (let i = 0; i < 50 && processMatches(pid, exe); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await kv.delete([...PID_KEY]);
}

function processMatches(pid: number, exe: string): boolean {
  try {
    const stat = readKernelFile(`/proc/${pid}/stat`);
    if (/\) Z /.test(stat)) return false;
    const cmdline = readKernelFile(`/proc/${pid}/cmdline`).split("\0");
    const base = exe.split("/").pop()!;
    return cmdline.some((arg) => arg === exe || arg.split("/").pop() === base);
  } catch {
    return false;
  }
}
