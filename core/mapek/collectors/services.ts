/**
 * Services collector: the configured health checks of every service — its supervised child is
 * alive (or a process of that name exists), a TCP connect succeeds, an HTTP GET returns the
 * expected status — plus CPU and memory of supervised children, which the planner uses to pick
 * the service behind a High CPU or High Memory diagnosis.
 *
 * @module
 */
import type { ServiceConfig } from "../../config/schema.ts";
import { readKernelFile } from "../../host/kernel_files.ts";
import type { Supervisor } from "../executors/supervisor.ts";
import { type Collector, finiteValues, type Sample } from "../monitor.ts";

/** Result of one service's checks. */
export interface ServiceHealth {
  up: boolean;
  /** Supervised child (or named process) alive; undefined when not checked. */
  alive?: boolean;
  tcp?: boolean;
  http?: boolean;
  latencyMs: number;
  reason?: string;
}

const CLOCK_TICKS = 100;
const PAGE_SIZE = 4096;

/** CPU ticks and resident bytes of one process from /proc, or null when it is gone. */
export function processUsage(pid: number): { ticks: number; rssBytes: number } | null {
  try {
    const stat = readKernelFile(`/proc/${pid}/stat`);
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state(3) ... utime(14) stime(15), i.e. rest[11], rest[12].
    const ticks = Number(rest[11]) + Number(rest[12]);
    const rss = Number(readKernelFile(`/proc/${pid}/statm`).split(" ")[1]) * PAGE_SIZE;
    return Number.isFinite(ticks) && Number.isFinite(rss) ? { ticks, rssBytes: rss } : null;
  } catch {
    return null;
  }
}

async function tcpCheck(host: string, port: number, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: host, port });
  const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
  try {
    const conn = await Promise.race([attempt, timeout]);
    if (conn) {
      conn.close();
      return true;
    }
    // Close the connection if it completes after the deadline.
    attempt.then((c) => c.close(), () => {});
    return false;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function httpCheck(url: string, expect: number, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === expect;
  } catch {
    return false;
  }
}

async function processNamed(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("pgrep", {
      args: ["-x", name],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.code === 0;
  } catch {
    return false;
  }
}

/**
 * Runs every configured check of one service.
 *
 * @param svc the service configuration
 * @param supervisor the supervisor, for services it runs
 */
export async function checkService(
  svc: ServiceConfig,
  supervisor?: Supervisor,
): Promise<ServiceHealth> {
  const started = performance.now();
  const result: ServiceHealth = { up: true, latencyMs: 0 };
  const reasons: string[] = [];
  const supervised = supervisor?.status(svc.name);
  if (supervised) {
    result.alive = supervised.running;
    if (!supervised.running) reasons.push(`process exited with code ${supervised.exitCode}`);
  } else if (svc.process_name) {
    result.alive = await processNamed(svc.process_name);
    if (!result.alive) reasons.push(`no process named ${svc.process_name}`);
  }
  const [tcp, http] = await Promise.all([
    svc.tcp_port === null ? undefined : tcpCheck(svc.tcp_host, svc.tcp_port, svc.check_timeout_ms),
    svc.http_url === null
      ? undefined
      : httpCheck(svc.http_url, svc.http_status, svc.check_timeout_ms),
  ]);
  result.tcp = tcp;
  result.http = http;
  if (tcp === false) reasons.push(`TCP connect to ${svc.tcp_host}:${svc.tcp_port} failed`);
  if (http === false) reasons.push(`GET ${svc.http_url} did not return ${svc.http_status}`);
  result.up = reasons.length === 0;
  if (reasons.length) result.reason = reasons.join("; ");
  result.latencyMs = performance.now() - started;
  return result;
}

const bit = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);

/**
 * Creates the services collector.
 *
 * @param services configured services (all are checked)
 * @param options the supervisor and a clock
 */
export function servicesCollector(
  services: ServiceConfig[],
  options: { supervisor?: Supervisor; now?: () => number } = {},
): Collector {
  const now = options.now ?? Date.now;
  const prev = new Map<string, { pid: number; ticks: number; at: number }>();
  return {
    kind: "services",
    async collect(): Promise<Sample[]> {
      return await Promise.all(services.map(async (svc) => {
        const health = await checkService(svc, options.supervisor);
        const proc = options.supervisor?.status(svc.name);
        let cpuPercent: number | undefined, rss: number | undefined;
        if (proc?.running && proc.pid) {
          const usage = processUsage(proc.pid);
          const at = performance.now();
          const p = prev.get(svc.name);
          if (usage) {
            if (p && p.pid === proc.pid && at > p.at) {
              cpuPercent = ((usage.ticks - p.ticks) / CLOCK_TICKS) / ((at - p.at) / 1000) * 100;
            }
            rss = usage.rssBytes;
            prev.set(svc.name, { pid: proc.pid, ticks: usage.ticks, at });
          }
        }
        return {
          collector: "services" as const,
          target: svc.name,
          at: now(),
          values: finiteValues({
            up: health.up ? 1 : 0,
            alive: bit(health.alive),
            exited: proc && !proc.running ? 1 : proc ? 0 : undefined,
            tcp_ok: bit(health.tcp),
            http_ok: bit(health.http),
            check_ms: health.latencyMs,
            cpu_percent: cpuPercent,
            rss_bytes: rss,
            restarts: proc?.restarts,
          }),
          labels: health.reason ? { reason: health.reason } : undefined,
        };
      }));
    },
  };
}
