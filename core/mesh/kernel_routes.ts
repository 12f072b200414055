/**
 * Kernel routes through one long-lived `ip -force -batch -` process: commands are written to
 * its stdin and each batch ends with a sentinel (`link show dev lo`) whose output tells us the
 * batch was executed, which also gives the install latency. Every route carries the agent's
 * protocol number, so the agent only ever replaces, deletes or flushes its own routes.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../errors.ts";

const log = getLogger(["x0", "mesh", "routes"]);
const encoder = new TextEncoder();

/** One /32 route as the agent wants it in the kernel. */
export interface KernelRoute {
  destination: string;
  via: string;
  dev: string;
  /** Route priority: primary routes 10, backups 20. */
  metric: number;
}

/** Metric of primary routes; backups are installed at {@linkcode BACKUP_METRIC}. */
export const PRIMARY_METRIC = 10;
/** Metric of pre-installed backup routes (used by the kernel when the primary's device goes down). */
export const BACKUP_METRIC = 20;

/** Runs route commands in the kernel. */
export interface RouteCommandRunner {
  /** Executes commands (ip batch syntax, without the leading `ip`); resolves with the latency in ms. */
  run(commands: string[]): Promise<number>;
  close(): Promise<void>;
}

/** Starts the long-lived `ip -force -batch -` process (needs --allow-run=ip, CAP_NET_ADMIN). */
export function startIpBatch(): RouteCommandRunner {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("ip", {
      args: ["-force", "-batch", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    throw new UnavailableError(`Cannot start ip -batch: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const writer = child.stdin.getWriter();
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let dead: Error | null = null;

  const readLines = async (stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) onLine(line);
    }
  };
  const stdoutDone = readLines(child.stdout, (line) => {
    if (/^\d+: lo:/.test(line)) waiting.shift()?.resolve();
  });
  const stderrDone = readLines(child.stderr, (line) => {
    if (line.trim() && !line.startsWith("Command failed")) {
      log.warning("Route command failed: {error}", { error: line.trim() });
    }
  });
  const exited = child.status.then((s) => {
    dead = new UnavailableError(`ip -batch exited with code ${s.code}`);
    for (const w of waiting.splice(0)) w.reject(dead);
  });

  let chain = Promise.resolve(0);
  return {
    run(commands) {
      const next = chain.then(async () => {
        if (dead) throw dead;
        const started = performance.now();
        const done = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
        await writer.write(encoder.encode([...commands, "link show dev lo", ""].join("\n")));
        await done;
        return performance.now() - started;
      });
      chain = next.catch(() => 0);
      return next;
    },
    async close() {
      await chain;
      try {
        await writer.close();
      } catch {
        // The process is gone already.
      }
      await Promise.all([exited, stdoutDone, stderrDone]);
    },
  };
}

/** Keeps the kernel's routes of our protocol equal to a desired set, with minimal commands. */
export interface RouteTable {
  /** Makes the kernel match `routes` (replace changed, delete missing); returns latency ms. */
  sync(routes: KernelRoute[]): Promise<number>;
  /**
   * Marks routes via `dev` as uncertain (the kernel drops them when the device goes down): the
   * next sync re-installs them if still wanted and deletes them otherwise.
   */
  forgetDev(dev: string): void;
  /** Routes we believe are installed. */
  installed(): KernelRoute[];
  /** Deletes every route of our protocol. */
  flush(): Promise<void>;
}

/**
 * Creates the route table manager.
 *
 * @param runner where commands go
 * @param options protocol number, and the source address for locally originated traffic
 */
export function createRouteTable(
  runner: RouteCommandRunner,
  options: { protocol: number; src: string | null },
): RouteTable {
  const installed = new Map<string, KernelRoute>();
  const key = (r: { destination: string; metric: number }) => `${r.destination}|${r.metric}`;
  const src = options.src ? ` src ${options.src}` : "";
  return {
    sync(routes) {
      const want = new Map(routes.map((r) => [key(r), r]));
      const commands: string[] = [];
      const changes: Array<() => void> = [];
      for (const [k, r] of want) {
        const have = installed.get(k);
        if (have && have.via === r.via && have.dev === r.dev) continue;
        commands.push(
          `route replace ${r.destination}/32 via ${r.via} dev ${r.dev} proto ${options.protocol} metric ${r.metric}${src}`,
        );
        changes.push(() => installed.set(k, r));
      }
      for (const [k, r] of installed) {
        if (want.has(k)) continue;
        commands.push(
          `route del ${r.destination}/32 proto ${options.protocol} metric ${r.metric}`,
        );
        changes.push(() => installed.delete(k));
      }
      if (commands.length === 0) return Promise.resolve(0);
      for (const c of changes) c();
      return runner.run(commands);
    },
    forgetDev(dev) {
      for (const [k, r] of installed) if (r.dev === dev) installed.set(k, { ...r, via: "" });
    },
    installed: () => [...installed.values()],
    async flush() {
      installed.clear();
      await runner.run([`route flush proto ${options.protocol}`]);
    },
  };
}
