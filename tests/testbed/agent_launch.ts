/**
 * How the testbed starts a router's agent: its permission flags (explicit, no --allow-all), the
 * launch inside the router's namespace and cgroup, detached in its own session, and the wait
 * for its API.
 *
 * @module
 */
import { type CgroupHost, joinCgroupScript, remountCgroupsScript, shq } from "./cgroups.ts";
import { alive } from "./netns.ts";
import type { RouterState } from "./testbed.ts";
import { ROOT } from "../../core/paths.ts";

/** The repository root (with a trailing slash). */
export { ROOT };

/** The native liveness helper agents may run (it may not be built yet: allowed all the same). */
export const LIVENESS_HELPER = `${ROOT}native/bin/x0-liveness`;

/**
 * Permissions an agent in a router namespace runs with (the final list for deno.json): FFI for
 * libbpf and for reading /proc and /sys through libc (Deno 2.9 refuses them without --allow-all),
 * `ip` for kernel routes (mesh and the MAPE-K route executor) and the liveness helper. Programs
 * the configuration names (supervised services, a cache-clear command, pgrep for process-name
 * checks) are added per testbed by {@linkcode agentFlags}.
 */
export const AGENT_FLAGS = [
  "--unstable-kv",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  `--allow-run=ip,${LIVENESS_HELPER}`,
  "--allow-ffi",
  "--allow-sys",
];

/**
 * AGENT_FLAGS with `--allow-run` extended by what an agent configuration makes the agent run:
 * supervised services' executables, `mapek.cache_clear_command`, `pgrep` for services checked by
 * process name, `mapek.systemctl` for systemd restarts. Nothing beyond that (no --allow-all).
 *
 * @param config the agent's configuration document (as written to config.json)
 */
export function agentFlags(config: Record<string, unknown> = {}): string[] {
  const services = (config.services ?? []) as {
    command?: string[];
    restart?: string;
    process_name?: string | null;
  }[];
  const mapek = (config.mapek ?? {}) as { cache_clear_command?: string[]; systemctl?: string };
  const extra = new Set<string>();
  for (const s of services) {
    if (s.command?.length && (s.restart ?? "supervisor") === "supervisor") extra.add(s.command[0]);
    if (s.process_name) extra.add("pgrep");
    if (s.restart === "systemd") extra.add(mapek.systemctl ?? "systemctl");
  }
  if (mapek.cache_clear_command?.length) extra.add(mapek.cache_clear_command[0]);
  return AGENT_FLAGS.map((f) =>
    f.startsWith("--allow-run=") && extra.size ? [f, ...extra].join(",") : f
  );
}

/**
 * Starts `main.ts server --config <rdir>/config.json` inside the router's namespace and cgroup
 * (joined by the launching shell before it execs, so the agent and all its children are in it),
 * detached in its own session (so it outlives this process and can be killed as a power failure
 * would), with its log in `<rdir>/agent.log`. Returns the agent's PID.
 *
 * @param r the router
 * @param rdir the router's state directory holding config.json
 * @param options extra environment for the agent; its permission flags (default AGENT_FLAGS);
 *   the cgroup hierarchy to mount again inside the namespace so the agent can read its cgroup;
 *   the entry module (default main.ts; the bundle from `deno task build:agent` starts faster)
 */
export async function launchAgent(
  r: RouterState,
  rdir: string,
  options: {
    env?: Record<string, string>;
    flags?: string[];
    cgroupHost?: CgroupHost | null;
    entry?: string;
  } = {},
): Promise<number> {
  const q = shq;
  const envs = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${q(v)}`);
  const flags = options.flags ?? AGENT_FLAGS;
  const cmd = [
    ...["ip", "netns", "exec", r.netns].map(q),
    // ip netns exec mounts a fresh /sys (hiding /sys/fs/cgroup): mount the hierarchies again.
    ...(options.cgroupHost && r.cgroup
      ? ["sh", "-c", `${remountCgroupsScript(options.cgroupHost)}exec "$@"`, "sh"].map(q)
      : []),
    q("env"),
    ...envs,
    ...[
      Deno.execPath(),
      "run",
      ...flags,
      `${options.entry ?? ROOT + "main.ts"}`,
      "server",
      "--config",
    ].map(q),
    q(`${rdir}/config.json`),
  ].join(" ");
  await Deno.remove(`${rdir}/pid`).catch(() => {});
  new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      `${joinCgroupScript(r.cgroup_dirs ?? [])}echo $$ > ${q(rdir + "/pid")}; ` +
      `exec ${cmd} >>${q(rdir + "/agent.log")} 2>&1`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().unref();
  // setsid forks when the spawned process leads its group: the shell reports the real PID.
  const until = performance.now() + 10_000;
  let pid = NaN;
  while (!(pid > 0) && performance.now() < until) {
    await new Promise((res) => setTimeout(res, 20));
    pid = Number(await Deno.readTextFile(`${rdir}/pid`).catch(() => ""));
  }
  if (!(pid > 0)) throw new Error(`Agent of ${r.name} did not start`);
  return pid;
}

/** Waits until the router's API answers /health (any status). */
export async function waitApi(
  r: RouterState,
  timeoutMs: number,
  dir?: string,
): Promise<void> {
  const logTail = () => {
    try {
      const lines = Deno.readTextFileSync(`${dir}/${r.name}/agent.log`).trim().split("\n");
      return `: ${lines.slice(-3).join(" | ")}`;
    } catch {
      return "";
    }
  };
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    try {
      const res = await fetch(`${r.api}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return;
    } catch {
      if (r.pid !== null && !(await alive(r.pid))) {
        throw new Error(`Agent of ${r.name} exited${logTail()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  throw new Error(`Agent of ${r.name} did not answer within ${timeoutMs} ms${logTail()}`);
}
