/**
 * The netns mesh testbed: N routers as network namespaces joined by veth pairs per topology,
 * a /31 on every link, a loopback /32 router address per router, a management veth from the
 * root namespace so the agent's API is reachable, and one real agent (`main.ts server`) per
 * router. Everything is named with a run prefix (`x0tb<hex>`) and recorded in a state file,
 * so `down` removes it all even after the creating process crashed.
 *
 * @module
 */
import {
  cgroupDirs,
  type CgroupHost,
  type CgroupLimits,
  createRouterCgroups,
  detectCgroupHost,
  joinCgroupScript,
  removeCgroups,
} from "./cgroups.ts";
import { agentFlags, launchAgent, waitApi } from "./agent_launch.ts";
import { ipBatch, listNetns, must, netnsPids, nsRun, pool, stopPid } from "./netns.ts";
import type { Topology } from "./topology.ts";
export { AGENT_FLAGS, agentFlags, launchAgent, LIVENESS_HELPER, waitApi } from "./agent_launch.ts";
import { provisionIdentities, wantsIdentity } from "./identity_provision.ts";
export { provisionIdentities } from "./identity_provision.ts";

/** Namespace name prefix shared by every testbed (followed by 4 hex digits of the run). */
export const PREFIX_BASE = "x0tb";

/** Link state in the testbed. */
export type LinkMode = "up" | "cut" | "carrier";

/** One router of a running testbed. */
export interface RouterState {
  name: string;
  netns: string;
  router_address: string;
  api: string;
  mgmt_root_if: string;
  mgmt_address: string;
  interfaces: string[];
  pid: number | null;
  killed: boolean;
  /** The router's cgroup (e.g. "/x0tb1a2b/r1"), null when the host offers none. */
  cgroup?: string | null;
  /** Its directories in every hierarchy used (what `down` removes). */
  cgroup_dirs?: string[];
}

/** One link of a running testbed. */
export interface LinkState {
  a: string;
  b: string;
  a_if: string;
  b_if: string;
  a_address: string;
  b_address: string;
  mode: LinkMode;
  /** Random loss added with setLinkLoss(): on which router's side, and how much. */
  loss?: { router: string; percent: number } | null;
}

/** Everything `down` needs, persisted in the state file. */
export interface TestbedState {
  version: 1;
  prefix: string;
  dir: string;
  agent: "x0" | "none";
  /** The agent's entry module (absent: main.ts of this checkout). */
  entry?: string;
  mesh: Record<string, unknown>;
  /** Other top-level agent config sections (merged over the testbed's defaults). */
  config?: Record<string, unknown>;
  /** Per-router config sections, merged over `config` (a `mapek` section key by key). */
  router_config?: Record<string, Record<string, unknown>>;
  /** The cgroup hierarchy and the run's cgroup directories, null when routers have none. */
  cgroups?: { host: CgroupHost; parents: string[] } | null;
  routers: RouterState[];
  links: LinkState[];
}

/** Options of {@linkcode testbedUp}. */
export interface UpOptions {
  /** Where the state is kept (one testbed per file). */
  stateFile: string;
  /** Start one agent per router ("x0", default) or none (a peer daemon is started by the caller). */
  agent?: "x0" | "none";
  /**
   * The agent's entry module: main.ts of this checkout (default) or the bundle
   * `deno task build:agent` writes (dist/x0tta6bl4.js), which starts faster.
   */
  entry?: string;
  /** Extra `mesh` config keys for every agent. */
  mesh?: Record<string, unknown>;
  /** Other top-level config sections for every agent (e.g. `identity`), replacing defaults. */
  config?: Record<string, unknown>;
  /** Wait for every agent API to answer (default true). */
  waitApi?: boolean;
  /** Per-router config sections, merged over `config` (a `mapek` section key by key). */
  routerConfig?: Record<string, Record<string, unknown>>;
  /**
   * Limits of each router's cgroup (default: one core, 768 MiB), or false for no cgroups.
   * Without a usable cgroup hierarchy (or without root) routers get none either way.
   */
  cgroups?: CgroupLimits | false;
}

const ip4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** Reads a state file; null when there is none. */
export function readState(stateFile: string): TestbedState | null {
  try {
    return JSON.parse(Deno.readTextFileSync(stateFile)) as TestbedState;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read testbed state ${stateFile}: ${(err as Error).message}`);
  }
}

/** Writes the state file atomically. */
export function writeState(stateFile: string, state: TestbedState): void {
  Deno.mkdirSync(stateFile.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  const tmp = `${stateFile}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(state, null, 2));
  Deno.renameSync(tmp, stateFile);
}

/** Finds a router by name; throws naming the known ones. */
export function router(state: TestbedState, name: string): RouterState {
  const r = state.routers.find((x) => x.name === name);
  if (!r) {
    throw new Error(
      `No router ${name} in the testbed (have ${state.routers.map((x) => x.name).join(", ")})`,
    );
  }
  return r;
}

/** Finds the link between two routers (either order). */
export function link(state: TestbedState, a: string, b: string): LinkState {
  router(state, a);
  router(state, b);
  const l = state.links.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
  if (!l) throw new Error(`No link between ${a} and ${b}`);
  return l;
}

/**
 * Creates the namespaces, links and addresses of a topology and starts the agents.
 * On any failure everything created so far is removed.
 *
 * @param topology routers and links
 * @param options state file, agent kind and mesh settings
 */
export async function testbedUp(topology: Topology, options: UpOptions): Promise<TestbedState> {
  const existing = readState(options.stateFile);
  if (existing) {
    const live = await listNetns();
    if (existing.routers.some((r) => live.includes(r.netns))) {
      throw new Error(`A testbed is already up (${existing.prefix}); run testbed down first`);
    }
    // A crashed run's leftovers (cgroups, stray processes, its directory) go before the state
    // file that records them is overwritten.
    await testbedDown(options.stateFile);
  }
  const run = crypto.getRandomValues(new Uint16Array(1))[0] & 0x1fff;
  const prefix = `${PREFIX_BASE}${run.toString(16).padStart(4, "0")}`;
  const dir = `${options.stateFile.replace(/\/[^/]*$/, "") || "."}/${prefix}`;
  const idx = new Map(topology.routers.map((r, i) => [r, i]));
  const mgmtBase = (100 << 24 | 64 << 16) + run * 512;
  const routers: RouterState[] = topology.routers.map((name, i) => ({
    name,
    netns: `${prefix}-${name}`,
    router_address: ip4((10 << 24 | 255 << 16) + i + 1),
    api: `http://${ip4(mgmtBase + 2 * i + 1)}:8080`,
    mgmt_root_if: `${prefix}m${i}`,
    mgmt_address: ip4(mgmtBase + 2 * i + 1),
    interfaces: [],
    pid: null,
    killed: false,
  }));
  const links: LinkState[] = topology.links.map(([a, b], k) => {
    routers[idx.get(a)!].interfaces.push(`to-${b}`);
    routers[idx.get(b)!].interfaces.push(`to-${a}`);
    return {
      a,
      b,
      a_if: `to-${b}`,
      b_if: `to-${a}`,
      a_address: ip4((10 << 24 | 200 << 16) + 2 * k),
      b_address: ip4((10 << 24 | 200 << 16) + 2 * k + 1),
      mode: "up",
    };
  });
  const state: TestbedState = {
    version: 1,
    prefix,
    dir,
    agent: options.agent ?? "x0",
    entry: options.entry,
    mesh: options.mesh ?? {},
    config: options.config,
    router_config: options.routerConfig,
    cgroups: null,
    routers,
    links,
  };
  for (const name of Object.keys(options.routerConfig ?? {})) router(state, name);
  writeState(options.stateFile, state);
  try {
    const host = options.cgroups === false ? null : await detectCgroupHost();
    if (host) {
      // Recorded before creating, so a crash half-way still lets `down` remove them.
      const parents = cgroupDirs(host, `/${prefix}`);
      state.cgroups = { host, parents };
      for (const r of routers) {
        r.cgroup = `/${prefix}/${r.name}`;
        r.cgroup_dirs = cgroupDirs(host, r.cgroup);
      }
      writeState(options.stateFile, state);
      await createRouterCgroups(host, prefix, topology.routers, options.cgroups || {});
    }
    await ipBatch(routers.map((r) => `netns add ${r.netns}`));
    await pool(routers, 8, (r) =>
      must("ip", [
        "netns",
        "exec",
        r.netns,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
      ]));
    await ipBatch(routers.flatMap((r) => [
      `link add ${r.mgmt_root_if} type veth peer name mgmt netns ${r.netns}`,
      `addr add ${ip4(mgmtBase + 2 * idx.get(r.name)!)}/31 dev ${r.mgmt_root_if}`,
      `link set ${r.mgmt_root_if} up`,
    ]));
    await pool(routers, 8, (r) =>
      ipBatch([
        "link set lo up",
        `addr add ${r.router_address}/32 dev lo`,
        ...links.filter((l) => l.a === r.name).map((l) =>
          `link add ${l.a_if} type veth peer name ${l.b_if} netns ${router(state, l.b).netns}`
        ),
      ], r.netns));
    await pool(routers, 8, (r) =>
      ipBatch([
        `addr add ${r.mgmt_address}/31 dev mgmt`,
        "link set mgmt up",
        ...links.flatMap((l) =>
          l.a === r.name
            ? [`addr add ${l.a_address}/31 dev ${l.a_if}`, `link set ${l.a_if} up`]
            : l.b === r.name
            ? [`addr add ${l.b_address}/31 dev ${l.b_if}`, `link set ${l.b_if} up`]
            : []
        ),
      ], r.netns));
    if (state.agent === "x0") {
      if (wantsIdentity(state.config)) await provisionIdentities(state);
      await pool(routers, 20, (r) => startRouterAgent(state, r));
      writeState(options.stateFile, state);
      if (options.waitApi ?? true) await pool(routers, 20, (r) => waitApi(r, 60_000, state.dir));
    }
    return state;
  } catch (err) {
    await testbedDown(options.stateFile).catch(() => {});
    throw err;
  }
}

/** Writes the router's config and starts its agent detached (survives the CLI exiting). */
export async function startRouterAgent(state: TestbedState, r: RouterState): Promise<void> {
  const rdir = `${state.dir}/${r.name}`;
  await Deno.mkdir(`${rdir}/data`, { recursive: true });
  await Deno.remove(`${rdir}/pid`).catch(() => {});
  const own = state.router_config?.[r.name] ?? {};
  const section = (doc: Record<string, unknown> | undefined, key: string) =>
    (doc?.[key] ?? {}) as Record<string, unknown>;
  const config = {
    node_id: r.name,
    host: r.mgmt_address,
    port: 8080,
    data_dir: `${rdir}/data`,
    log_level: "info",
    shutdown_timeout_ms: 3000,
    ...(state.config ?? {}),
    ...own,
    // The host collector reads the router's cgroup: CPU percent of its quota, memory of its limit.
    mapek: {
      ...(r.cgroup ? { cgroup: r.cgroup, cgroup_root: state.cgroups!.host.root } : {}),
      ...section(state.config, "mapek"),
      ...section(own, "mapek"),
    },
    mesh: {
      backend: "native",
      interfaces: r.interfaces,
      router_address: r.router_address,
      ...state.mesh,
      ...section(own, "mesh"),
    },
  };
  await Deno.writeTextFile(`${rdir}/config.json`, JSON.stringify(config, null, 2));
  r.pid = await launchAgent(r, rdir, {
    flags: agentFlags(config),
    cgroupHost: state.cgroups?.host,
    entry: state.entry,
  });
  r.killed = false;
}

/**
 * Removes a testbed: stops its agents and every process in its namespaces, deletes the
 * namespaces (which removes the veths) and its directory. Also removes leftover namespaces of
 * the same run. Safe to run twice, and after a crash.
 */
export async function testbedDown(stateFile: string): Promise<{ removed: string[] }> {
  const state = readState(stateFile);
  if (!state) return { removed: [] };
  await Promise.all(state.routers.map((r) => r.pid !== null ? stopPid(r.pid) : Promise.resolve()));
  const live = (await listNetns()).filter((n) => n.startsWith(`${state.prefix}-`));
  await pool(live, 8, async (ns) => {
    for (const pid of await netnsPids(ns)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  });
  if (live.length > 0) await ipBatch(live.map((ns) => `netns del ${ns}`)).catch(() => {});
  // Cgroups last: their processes are dead by now (any stragglers are killed), rmdir needs empty.
  const cgroupDirsLeft = await removeCgroups([
    ...state.routers.flatMap((r) => r.cgroup_dirs ?? []),
    ...(state.cgroups?.parents ?? []),
  ]);
  if (cgroupDirsLeft.length) {
    console.error(`testbed down: cgroups still busy: ${cgroupDirsLeft.join(", ")}`);
  }
  // Root-side management veths vanish with their peers; delete any that did not.
  for (const r of state.routers) {
    await nsRunRoot(["link", "del", r.mgmt_root_if]);
  }
  await Deno.remove(state.dir, { recursive: true }).catch(() => {});
  await Deno.remove(stateFile).catch(() => {});
  return { removed: live };
}

async function nsRunRoot(args: string[]): Promise<void> {
  await new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).output();
}

/**
 * Adds (-A) or deletes (-D) the rules that drop every IPv4 and IPv6 packet entering or leaving
 * `iface` (the raw table, before conntrack): one shell per namespace so a cut is quick.
 */
async function iptables(netns: string, op: "-A" | "-D", iface: string): Promise<void> {
  const rules = ["iptables", "ip6tables"].flatMap((tool) => [
    `${tool} -w -t raw ${op} PREROUTING -i ${iface} -j DROP`,
    `${tool} -w -t raw ${op} OUTPUT -o ${iface} -j DROP`,
  ]);
  const script = op === "-A" ? rules.join(" && ") : rules.map((r) => `${r} 2>/dev/null`).join("; ");
  const r = await nsRun(netns, ["sh", "-c", op === "-A" ? script : `${script}; true`]);
  if (r.code !== 0) throw new Error(`iptables failed in ${netns}: ${r.stderr.trim()}`);
}

/**
 * Cuts the link between two routers: silently (all traffic dropped both ways, carrier up) or,
 * with `carrier`, by taking both interfaces down.
 */
export async function cut(state: TestbedState, a: string, b: string, carrier = false) {
  const l = link(state, a, b);
  if (l.mode !== "up") throw new Error(`Link ${a}-${b} is already ${l.mode}`);
  const A = router(state, l.a), B = router(state, l.b);
  if (carrier) {
    await Promise.all([
      must("ip", ["-n", A.netns, "link", "set", l.a_if, "down"]),
      must("ip", ["-n", B.netns, "link", "set", l.b_if, "down"]),
    ]);
  } else {
    await Promise.all([iptables(A.netns, "-A", l.a_if), iptables(B.netns, "-A", l.b_if)]);
  }
  l.mode = carrier ? "carrier" : "cut";
}

/** Undoes a cut of either kind. */
export async function restore(state: TestbedState, a: string, b: string) {
  const l = link(state, a, b);
  const A = router(state, l.a), B = router(state, l.b);
  await Promise.all([
    iptables(A.netns, "-D", l.a_if),
    iptables(B.netns, "-D", l.b_if),
    must("ip", ["-n", A.netns, "link", "set", l.a_if, "up"]),
    must("ip", ["-n", B.netns, "link", "set", l.b_if, "up"]),
  ]);
  l.mode = "up";
}

/**
 * Makes a link lossy: `percent` % of the packets arriving at router `at` from the other end are
 * dropped at random (iptables `statistic` in the raw table, before routing, so probes and
 * forwarded traffic alike; replies to `at` are lost too, so both ends see the loss). 0 removes it.
 *
 * @param state the running testbed
 * @param at the router on whose side packets are dropped
 * @param other the other end of the link
 * @param percent 0 to 100
 */
export async function setLinkLoss(state: TestbedState, at: string, other: string, percent: number) {
  if (!(percent >= 0 && percent <= 100)) {
    throw new Error(`Invalid loss: ${percent} (a percentage from 0 to 100)`);
  }
  const l = link(state, at, other);
  const rule = (op: "-A" | "-D", loss: { router: string; percent: number }) => {
    const r = router(state, loss.router);
    return nsRun(r.netns, [
      "iptables",
      "-w",
      "-t",
      "raw",
      op,
      "PREROUTING",
      "-i",
      l.a === loss.router ? l.a_if : l.b_if,
      "-m",
      "statistic",
      "--mode",
      "random",
      "--probability",
      String(loss.percent / 100),
      "-j",
      "DROP",
    ]);
  };
  if (l.loss) await rule("-D", l.loss);
  l.loss = null;
  if (percent === 0) return;
  const next = { router: at, percent };
  const r = await rule("-A", next);
  if (r.code !== 0) {
    throw new Error(`iptables failed in ${router(state, at).netns}: ${r.stderr.trim()}`);
  }
  l.loss = next;
}

/** Stops a router entirely, as a power failure would: agent killed, all its links silent. */
export async function kill(state: TestbedState, name: string) {
  const r = router(state, name);
  if (r.killed) throw new Error(`Router ${name} is already killed`);
  // Links go silent first, then the agent dies: traffic and probes stop at the same moment.
  await iptables(r.netns, "-A", "to-+");
  if (r.pid !== null) {
    try {
      Deno.kill(r.pid, "SIGKILL");
    } catch {
      // Already dead.
    }
  }
  r.killed = true;
}

/** Brings a killed router back: links audible again, agent restarted. */
export async function revive(state: TestbedState, name: string) {
  const r = router(state, name);
  await iptables(r.netns, "-D", "to-+");
  if (state.agent === "x0") {
    await startRouterAgent(state, r);
    await waitApi(r, 30_000, state.dir);
  }
  r.killed = false;
}

/** How a command started in a router connects its standard streams. */
export interface ExecOptions {
  stdin?: "null" | "inherit" | "piped";
  stdout?: "null" | "inherit" | "piped";
  stderr?: "null" | "inherit" | "piped";
}

/**
 * Starts a command inside a router as one of its own processes would run: in its network
 * namespace and its cgroup (joined before exec, so the router's host collector counts it and
 * its children). The returned process has the command's PID; kill it to stop the command.
 * Exit code 111 means the cgroup could not be joined.
 *
 * @param state the running testbed
 * @param name the router
 * @param argv the command and its arguments
 * @param options standard streams (default: stdin null, output piped)
 * @example
 * ```ts
 * const hog = execInRouter(state, "r1", ["sh", "-c", "while :; do :; done"], { stdout: "null" });
 * hog.kill("SIGKILL");
 * ```
 */
export function execInRouter(
  state: TestbedState,
  name: string,
  argv: string[],
  options: ExecOptions = {},
): Deno.ChildProcess {
  const r = router(state, name);
  if (argv.length === 0) throw new Error(`No command to run in router ${name}`);
  return new Deno.Command("sh", {
    args: [
      "-c",
      `${joinCgroupScript(r.cgroup_dirs ?? [])}exec ip netns exec "$0" "$@"`,
      r.netns,
      ...argv,
    ],
    stdin: options.stdin ?? "null",
    stdout: options.stdout ?? "piped",
    stderr: options.stderr ?? "piped",
  }).spawn();
}

/** The `testbed status --json` document. */
export function statusDocument(state: TestbedState) {
  return {
    routers: state.routers.map((r) => ({
      name: r.name,
      netns: r.netns,
      router_address: r.router_address,
      api: r.api,
      up: !r.killed,
      cgroup: r.cgroup ?? null,
    })),
    links: state.links.map((l) => ({
      a: l.a,
      b: l.b,
      up: l.mode === "up",
      mode: l.mode,
      loss_percent: l.loss?.percent ?? 0,
    })),
  };
}
