/**
 * `deno task bench:mttr`: time to recover from link cuts and router kills on a 20-router grid
 * of network namespaces, for the x0tta6bl4 agent and, side by side in the same run, for babeld
 * (Debian) with its default timers and with its fastest stable timers.
 *
 * A UDP stream of 1,000 packets/s runs between the far corners (r1 → rN); each event cuts a
 * link on the active forwarding path silently (carrier up) or kills a router on it; MTTR is the
 * longest gap in received sequence numbers around the event. Also measured: the cold-start
 * convergence of the agents (launch → every router has a kernel route to every other).
 * Writes bench/results/mttr.json; the last line printed is that JSON on one line.
 *
 * The agent runs twice: with its default timers (the headline keys) and with the native
 * liveness helper (mesh.fast_liveness) at its fastest stable timers (`x0_fast_*`), chosen by
 * the method used for babeld's fast timers: try candidate intervals from the fastest, keep the
 * first whose quiet stream loses nothing (and, stricter for us, whose helpers never flapped).
 * babeld runs with its default timers and with its fastest stable hello interval, and with 0.1 s
 * hellos (the setting the issue quotes) unless that is the fastest.
 *
 * Flags: --grid RxC (4x5) --cuts N (20) --kills N (5) --rate PPS (1000)
 * --x0-fast auto|off|MS:DEAD_MS (auto: fastest stable of --x0-fast-candidates, default
 *   5:15,10:30,20:60,50:150, each INTERVAL_MS:DEAD_MS of the helper)
 * --x0-probe-fast MS:DEAD_PROBES (off by default: the Deno prober alone at fast timers, keys
 *   `x0_probe_fast_*`)
 * --babeld-default-cuts N (5) --babeld-default-kills N (2) --no-babeld-default (skips the slow
 *   default-timer run, ~5 minutes) --no-babeld --out FILE --mtls (agents' control channel over
 *   mTLS with probe and helper HMAC; default plain TCP, helper unauthenticated, like babeld)
 * --keep-logs DIR (copies every agent's log of every run to DIR/<run>/<router>.log)
 * --source (agents run from main.ts; by default the bench builds the single-file bundle of
 *   `deno task build:agent` and runs the agents from it, as routers should, and measures one
 *   cold start from source besides: `converge_source_s`)
 *
 * @module
 */
import { parseTopology } from "../tests/testbed/topology.ts";
import {
  AGENT_FLAGS,
  cut,
  kill,
  provisionIdentities,
  restore,
  revive,
  startRouterAgent,
  testbedDown,
  type TestbedState,
  testbedUp,
} from "../tests/testbed/testbed.ts";
import { nsRun, pool } from "../tests/testbed/netns.ts";
import { ensureLivenessBinary } from "../native/ensure_built.ts";
import { buildAgentBundle } from "../scripts/build_agent.ts";
import { AGENT_BUNDLE, ROOT } from "../core/paths.ts";
import { forwardingPath } from "../tests/testbed/traffic.ts";

const HERE = new URL(".", import.meta.url).pathname;
const STREAM = `${HERE}mttr_stream.py`;
const PYTHON = "/usr/bin/python3";
const PORT = 9999;

function flag(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1] : def;
}
const intFlag = (name: string, def: number) => {
  const v = flag(name, String(def));
  if (!/^\d+$/.test(v)) throw new Error(`Invalid --${name}: ${v}`);
  return Number(v);
};

const GRID = flag("grid", "4x5");
const CUTS = intFlag("cuts", 20);
const KILLS = intFlag("kills", 5);
const BABELD_DEFAULT_CUTS = intFlag("babeld-default-cuts", 5);
const BABELD_DEFAULT_KILLS = intFlag("babeld-default-kills", 2);
const RATE = intFlag("rate", 1000);
const WITH_BABELD = !Deno.args.includes("--no-babeld");
const WITH_BABELD_DEFAULT = !Deno.args.includes("--no-babeld-default");
/**
 * Control channel over mTLS (identities provisioned, probe and helper HMAC on) instead of plain
 * TCP. Off by default: the committed results and the default-timer keys are on plain TCP.
 */
const MTLS = Deno.args.includes("--mtls");
/**
 * Agents run from main.ts instead of the bundle `deno task build:agent` writes (the bench
 * builds it first). Without it the bundle runs everything and a cold start from source is
 * measured on its own as well (`converge_source_s`).
 */
const SOURCE = Deno.args.includes("--source");
/** Directory the agents' logs of every run are copied to before teardown ("" keeps none). */
const KEEP_LOGS = flag("keep-logs", "");
const OUT = flag("out", `${HERE}results/mttr.json`);
/** Probe interval and dead probes of a prober-only fast run ("off" skips it). */
const X0_PROBE_FAST_SPEC = flag("x0-probe-fast", "off");
if (!/^(off|\d+:\d+)$/.test(X0_PROBE_FAST_SPEC)) {
  throw new Error(`Invalid --x0-probe-fast: ${X0_PROBE_FAST_SPEC}`);
}
const [X0_PROBE_FAST, X0_PROBE_FAST_DEAD] = X0_PROBE_FAST_SPEC === "off"
  ? [0, 0]
  : X0_PROBE_FAST_SPEC.split(":").map(Number);
/** The liveness helper's timers: searched ("auto"), fixed ("MS:DEAD_MS") or not run ("off"). */
const X0_FAST_SPEC = flag("x0-fast", "auto");
if (!/^(auto|off|\d+:\d+)$/.test(X0_FAST_SPEC)) {
  throw new Error(`Invalid --x0-fast: ${X0_FAST_SPEC}`);
}
const X0_FAST_CANDIDATES = flag("x0-fast-candidates", "5:15,10:30,20:60,50:150").split(",").map(
  (c) => {
    if (!/^\d+:\d+$/.test(c)) throw new Error(`Invalid --x0-fast-candidates entry: ${c}`);
    const [intervalMs, deadMs] = c.split(":").map(Number);
    if (intervalMs < 1 || deadMs < 2 * intervalMs) {
      throw new Error(`Invalid --x0-fast-candidates entry: ${c} (dead >= 2 intervals)`);
    }
    return { intervalMs, deadMs };
  },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile. */
function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Milliseconds rounded to whole ones (null stays null). */
const ms = (v: number | null) => v === null ? null : Math.round(v);

/**
 * The event keys of one mesh's run under `prefix`: how many cuts and kills, and the p50/p95/p99
 * of their MTTRs in ms.
 */
function eventKeys(prefix: string, r: { cutMs: number[]; killMs: number[] }) {
  const out: Record<string, number | null> = {
    [`${prefix}cuts`]: r.cutMs.length,
    [`${prefix}kills`]: r.killMs.length,
  };
  for (const [kind, values] of [["cut", r.cutMs], ["kill", r.killMs]] as const) {
    for (const p of [50, 95, 99]) out[`${prefix}${kind}_p${p}_ms`] = ms(pct(values, p));
  }
  return out;
}

interface Mesh {
  name: string;
  /** Extra agent `mesh` settings (x0 only). */
  mesh?: Record<string, unknown>;
  /** The agent's entry module (x0 only): the bundle, or main.ts with --source. */
  entry?: string;
  /** Installation before the cold-start clock runs (identities, as a router gets at install). */
  prepare?(state: TestbedState): Promise<void>;
  start(state: TestbedState): Promise<void>;
  /** Restarts the routing process of one (revived) router. */
  restart(state: TestbedState, name: string): Promise<void>;
  /** How long to hold a cut / a kill before undoing it, and to settle afterwards. */
  holdMs: number;
  settleMs: number;
}

/** Timers of the native liveness helper (mesh.fast_liveness). */
interface Liveness {
  intervalMs: number;
  deadMs: number;
}

function x0Mesh(
  timers: { probe?: { intervalMs: number; deadProbes: number }; liveness?: Liveness } = {},
  entry: string = SOURCE ? `${ROOT}main.ts` : AGENT_BUNDLE,
): Mesh {
  const { probe, liveness } = timers;
  const mesh: Record<string, unknown> = {};
  const name = [];
  if (probe) {
    Object.assign(mesh, { probe_interval_ms: probe.intervalMs, dead_probes: probe.deadProbes });
    name.push(`probe ${probe.intervalMs} ms, dead after ${probe.deadProbes}`);
  }
  if (liveness) {
    mesh.fast_liveness = {
      enabled: true,
      interval_ms: liveness.intervalMs,
      dead_ms: liveness.deadMs,
    };
    name.push(`liveness helper ${liveness.intervalMs} ms, down after ${liveness.deadMs} ms`);
  }
  if (entry !== AGENT_BUNDLE) name.push("from source");
  return {
    name: `x0tta6bl4 (${name.length ? name.join("; ") : "default timers"})`,
    mesh,
    entry,
    async prepare(state) {
      // One trust domain for all routers, provisioned as at installation (not part of the cold
      // start): the mTLS control channel (and with it the probe and liveness-helper HMAC) works
      // as deployed, and without --mtls the agents still load an SVID rather than each minting
      // a CA of its own on first start.
      await provisionIdentities(state);
    },
    async start(state) {
      await pool(state.routers, 20, (r) => startRouterAgent(state, r));
    },
    async restart(state, name) {
      // The testbed runs with agent "none" (the bench starts the agents), so revive() only makes
      // the links audible again: start the router's agent ourselves, as babeld's is restarted.
      await revive(state, name);
      await startRouterAgent(state, state.routers.find((r) => r.name === name)!);
    },
    holdMs: 1500,
    settleMs: 2500,
  };
}

function babeldMesh(helloS: number | null, holdMs: number, settleMs: number): Mesh {
  const startOne = async (state: TestbedState, name: string) => {
    const r = state.routers.find((x) => x.name === name)!;
    const dir = `${state.dir}/${r.name}`;
    await Deno.mkdir(dir, { recursive: true });
    const args = [
      "netns",
      "exec",
      r.netns,
      "babeld",
      "-I",
      `${dir}/babeld.pid`,
      "-S",
      `${dir}/babeld.state`,
      "-L",
      `${dir}/babeld.log`,
      "-D",
      "-C",
      "redistribute local ip 10.255.0.0/16 le 32 allow",
      "-C",
      "redistribute local deny",
      ...(helloS === null ? [] : ["-C", `default hello-interval ${helloS}`]),
      ...r.interfaces,
    ];
    await Deno.remove(`${dir}/babeld.pid`).catch(() => {});
    const out = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
    if (!out.success) {
      throw new Error(`babeld failed in ${r.netns}: ${new TextDecoder().decode(out.stderr)}`);
    }
    for (let i = 0; i < 100; i++) {
      const pid = Number(await Deno.readTextFile(`${dir}/babeld.pid`).catch(() => ""));
      if (pid > 0) {
        r.pid = pid;
        r.killed = false;
        return;
      }
      await sleep(20);
    }
    throw new Error(`babeld in ${r.netns} wrote no pid file`);
  };
  return {
    name: helloS === null ? "babeld (default timers)" : `babeld (hello ${helloS} s)`,
    async start(state) {
      await pool(state.routers, 20, (r) => startOne(state, r.name));
    },
    async restart(state, name) {
      await revive(state, name);
      await startOne(state, name);
    },
    holdMs,
    settleMs,
  };
}

/**
 * Testbed options of every run: the bench starts the routing daemons itself, and no router gets
 * a CPU-limited cgroup (babeld is started outside the agents' cgroups, so limits would favour it;
 * and cgroup v1 RT group scheduling would refuse the liveness helper SCHED_FIFO).
 */
function upOptions(stateFile: string, mesh?: Mesh) {
  const identity = MTLS ? { mesh_mtls: true } : { mesh_mtls: false };
  const options = {
    stateFile,
    agent: "none" as const,
    entry: mesh?.entry,
    mesh: mesh?.mesh,
    config: { identity },
    cgroups: false as const,
  };
  return options;
}

/** Polls until every router has a kernel route (any protocol but kernel) to every other. */
async function waitRoutes(state: TestbedState, timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  const want = state.routers.length - 1;
  while (performance.now() - start < timeoutMs) {
    const counts = await pool(state.routers, 20, async (r) => {
      const out = await nsRun(r.netns, [
        "ip",
        "-4",
        "route",
        "show",
        "root",
        "10.255.0.0/16",
      ]);
      const dests = new Set(
        out.stdout.split("\n").filter((l) => / via /.test(l)).map((l) => l.split(" ")[0]),
      );
      return dests.size;
    });
    if (counts.every((c) => c >= want)) return (performance.now() - start) / 1000;
    await sleep(200);
  }
  return null;
}

/**
 * Wall time at which the last router reached its full kernel table for good (its last change
 * from fewer to all destinations before `until`), from the agents' logs; null if unknown.
 */
async function lastFullTable(state: TestbedState, until: number): Promise<number | null> {
  let last = 0;
  const want = state.routers.length - 1;
  for (const r of state.routers) {
    const log = await Deno.readTextFile(`${state.dir}/${r.name}/agent.log`).catch(() => "");
    let fullSince: number | null = null;
    for (const line of log.split("\n")) {
      if (!line.includes("Kernel routes updated")) continue;
      const entry = JSON.parse(line);
      const at = Date.parse(entry["@timestamp"]);
      if (at > until) break;
      const full = entry.properties?.destinations === want;
      if (full && fullSince === null) fullSince = at;
      if (!full) fullSince = null;
    }
    if (fullSince === null) return null;
    last = Math.max(last, fullSince);
  }
  return last;
}

/** Wall time at which the last agent logged that its mesh started (null if unknown). */
async function lastMeshStart(state: TestbedState): Promise<number | null> {
  let last = 0;
  for (const r of state.routers) {
    const log = await Deno.readTextFile(`${state.dir}/${r.name}/agent.log`).catch(() => "");
    const line = log.split("\n").find((l) => l.includes("Native mesh started"));
    if (!line) return null;
    last = Math.max(last, Date.parse(JSON.parse(line)["@timestamp"]));
  }
  return last;
}

interface Stream {
  startWall: number;
  finish(): Promise<{ received: number; gaps: Array<[number, number, number, number]> }>;
}

async function startStream(state: TestbedState, seconds: number): Promise<Stream> {
  const from = state.routers[0], to = state.routers[state.routers.length - 1];
  const count = Math.ceil(RATE * seconds);
  const recv = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      to.netns,
      PYTHON,
      STREAM,
      "recv",
      to.router_address,
      String(PORT),
      String(count),
      String(seconds + 10),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const recvLines = recv.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const readLine = async (reader: ReadableStreamDefaultReader<string>) => {
    let buf = "";
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
    }
    return buf;
  };
  await readLine(recvLines);
  const send = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      from.netns,
      PYTHON,
      STREAM,
      "send",
      from.router_address,
      to.router_address,
      String(PORT),
      String(RATE),
      String(seconds),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const sendLines = send.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const startWall = JSON.parse(await readLine(sendLines)).start * 1000;
  return {
    startWall,
    async finish() {
      try {
        send.kill("SIGTERM");
      } catch {
        // Finished already.
      }
      await send.status;
      let sentText = "";
      for (;;) {
        const { value, done } = await sendLines.read();
        if (done) break;
        sentText += value;
      }
      const sent = Number(/"sent": (\d+)/.exec(sentText)?.[1] ?? 0);
      await sleep(300);
      const w = recv.stdin.getWriter();
      await w.close();
      let text = "";
      for (;;) {
        const { value, done } = await recvLines.read();
        if (done) break;
        text += value;
      }
      await recv.status;
      const r = JSON.parse(text.trim().split("\n").pop()!);
      console.log(`  stream end: ${sentText.trim()}; highest received ${r.last} at ${r.last_at}`);
      // Packets lost at the very end never show as a gap between received ones: add them,
      // so an outage that had not healed when the stream stopped is not missed.
      if (r.last >= 0 && sent - 1 > r.last + 50) r.gaps.push([r.last + 1, sent - 1, r.last_at, 0]);
      return r;
    },
  };
}

interface Event {
  kind: "cut" | "kill";
  target: string;
  at: number;
  undoAt: number;
}

/**
 * Launches every router of a fresh testbed at once and waits for the mesh to converge: launch
 * → the last router has a full kernel table. Also returns the time after the last agent logged
 * that its mesh started.
 */
async function coldStart(mesh: Mesh, state: TestbedState) {
  await mesh.prepare?.(state);
  const launched = Date.now();
  await mesh.start(state);
  const routesAfter = await waitRoutes(state, 120_000);
  if (routesAfter === null) throw new Error(`${mesh.name} did not converge within 120 s`);
  // The moment the last router installed its full table, from the agents' own logs (the
  // polling above only confirms it); babeld does not log it, so its time is the poll's.
  const convergedAt = (await lastFullTable(state, Date.now())) ?? Date.now();
  const converge_s = (convergedAt - launched) / 1000;
  const started = await lastMeshStart(state);
  const converge_after_start_s = started === null ? null : (convergedAt - started) / 1000;
  console.log(
    `${mesh.name}: converged ${converge_s.toFixed(2)} s after launch, ${
      converge_after_start_s?.toFixed(2) ?? "?"
    } s after the last agent started`,
  );
  return { converge_s, converge_after_start_s };
}

/** Cold start only (no stream, no events) of a mesh on a fresh testbed. */
async function coldStartOnly(mesh: Mesh, stateFile: string) {
  const state = await testbedUp(parseTopology(`grid:${GRID}`), upOptions(stateFile, mesh));
  try {
    return await coldStart(mesh, state);
  } finally {
    if (KEEP_LOGS) await keepLogs(state, mesh.name);
    await testbedDown(stateFile);
  }
}

/** Runs one mesh through the events; returns per-event MTTRs in ms. */
async function scenario(mesh: Mesh, cuts: number, kills: number, stateFile: string) {
  const topology = parseTopology(`grid:${GRID}`);
  const state = await testbedUp(topology, upOptions(stateFile, mesh));
  try {
    const { converge_s, converge_after_start_s } = await coldStart(mesh, state);
    await sleep(2000);
    const budget = (cuts + kills) * (mesh.holdMs + mesh.settleMs + 3000) / 1000 + 20;
    const stream = await startStream(state, budget);
    await sleep(1500);
    const events: Event[] = [];
    const last = state.routers[state.routers.length - 1].name;
    const plan = [
      ...Array.from({ length: cuts }, (_, i) => ({ kind: "cut" as const, i })),
      ...Array.from({ length: kills }, (_, i) => ({ kind: "kill" as const, i })),
    ];
    for (const step of plan) {
      let path: string[] | null = null;
      for (let attempt = 0; attempt < 10 && !path; attempt++) {
        path = await forwardingPath(state, "r1", last);
        if (!path) {
          console.log(`  no forwarding path r1 -> ${last} yet; waiting`);
          await sleep(1000);
        }
      }
      if (!path) continue;
      if (step.kind === "cut") {
        const k = step.i % (path.length - 1);
        const [a, b] = [path[k], path[k + 1]];
        const at = Date.now();
        await cut(state, a, b);
        await sleep(mesh.holdMs);
        const undoAt = Date.now();
        await restore(state, a, b);
        events.push({ kind: "cut", target: `${a}-${b}`, at, undoAt });
      } else {
        const interior = path.slice(1, -1);
        const victim = interior[step.i % interior.length];
        const at = Date.now();
        await kill(state, victim);
        await sleep(mesh.holdMs);
        const undoAt = Date.now();
        await mesh.restart(state, victim);
        events.push({ kind: "kill", target: victim, at, undoAt });
      }
      await sleep(mesh.settleMs);
    }
    const result = await stream.finish();
    // Verdicts in the agents' logs while the stream ran (0 for babeld): each cut should give two
    // (one per end), each kill one per neighbour of the victim; more are flaps.
    const helperDowns = await logCount(state, HELPER_DOWN, stream.startWall);
    const probeOfflines = await logCount(state, PROBE_OFFLINE, stream.startWall);
    // A gap belongs to the event during which it began (by the receiver's clock); its length is
    // counted in sequence numbers, as the issue defines MTTR.
    const gapMs = (fromWall: number, toWall: number) =>
      Math.max(
        0,
        ...result.gaps
          .filter(([, , before]) => before * 1000 >= fromWall && before * 1000 <= toWall)
          .map(([s, e]) => (e - s + 1) * 1000 / RATE),
      );
    const mttr = (e: Event) => gapMs(e.at - 50, e.undoAt);
    const undoGap = (e: Event) => gapMs(e.undoAt, e.undoAt + mesh.settleMs);
    const cutMs = events.filter((e) => e.kind === "cut").map(mttr);
    const killMs = events.filter((e) => e.kind === "kill").map(mttr);
    const restoreMs = events.map(undoGap);
    // Loss that began outside every event and its settling time: instability of the mesh.
    const spuriousMs = result.gaps
      .filter(([, , before]) =>
        !events.some((e) => before * 1000 >= e.at - 50 && before * 1000 <= e.undoAt + mesh.settleMs)
      )
      .reduce((sum, [s, e]) => sum + (e - s + 1) * 1000 / RATE, 0);
    for (const e of events) {
      console.log(`  ${e.kind} ${e.target}: ${mttr(e)} ms (after undo: ${undoGap(e)} ms)`);
    }
    console.log(`  stream: ${result.received} packets received, ${result.gaps.length} gaps`);
    console.log(`  loss outside events: ${spuriousMs} ms`);
    if (helperDowns + probeOfflines > 0) {
      console.log(`  agents' verdicts: ${helperDowns} helper down, ${probeOfflines} probe OFFLINE`);
    }
    return {
      converge_s,
      converge_after_start_s,
      cutMs,
      killMs,
      restoreMs,
      spuriousMs,
      received: result.received,
      helperDowns,
      probeOfflines,
    };
  } finally {
    if (KEEP_LOGS) await keepLogs(state, mesh.name);
    await testbedDown(stateFile);
  }
}

/** Copies the routers' agent logs to KEEP_LOGS/<run>/ (the testbed directory is removed). */
async function keepLogs(state: TestbedState, run: string): Promise<void> {
  const dir = `${KEEP_LOGS}/${run.replace(/[^A-Za-z0-9.]+/g, "_")}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const r of state.routers) {
    await Deno.copyFile(`${state.dir}/${r.name}/agent.log`, `${dir}/${r.name}.log`).catch(() => {});
  }
}

/** Count of agent log lines matching `re` over all routers, logged at or after `sinceMs`. */
async function logCount(state: TestbedState, re: RegExp, sinceMs = 0): Promise<number> {
  let n = 0;
  for (const r of state.routers) {
    const log = await Deno.readTextFile(`${state.dir}/${r.name}/agent.log`).catch(() => "");
    n += log.split("\n").filter((l) =>
      re.test(l) && Date.parse(/"@timestamp":"([^"]+)"/.exec(l)?.[1] ?? "") >= sinceMs
    ).length;
  }
  return n;
}
const HELPER_DOWN = /Fast liveness: \S+ down/;
const PROBE_OFFLINE = /"Neighbour \S+ on \S+: \S+ -> OFFLINE"/;

/**
 * Picks the liveness helper's fastest timers that keep a quiet stream lossless, as
 * {@linkcode fastestStableBabeld} does for babeld, and (stricter) with no helper flap anywhere.
 */
async function fastestStableX0(stateFile: string): Promise<Liveness | null> {
  const topology = parseTopology(`grid:${GRID}`);
  for (const candidate of X0_FAST_CANDIDATES) {
    const mesh = x0Mesh({ liveness: candidate });
    const state = await testbedUp(topology, upOptions(stateFile, mesh));
    try {
      await mesh.start(state);
      if (await waitRoutes(state, 120_000) === null) continue;
      // Past the first adjacencies' probation, as in the measured runs.
      await sleep(3000);
      const flapsBefore = await logCount(state, HELPER_DOWN);
      const probeFlapsBefore = await logCount(state, PROBE_OFFLINE);
      const last = state.routers[state.routers.length - 1].name;
      const stream = await startStream(state, 10);
      await sleep(10_500);
      const r = await stream.finish();
      const after = await forwardingPath(state, "r1", last);
      const flaps = (await logCount(state, HELPER_DOWN)) - flapsBefore;
      const probeFlaps = (await logCount(state, PROBE_OFFLINE)) - probeFlapsBefore;
      const stable = r.gaps.length === 0 && r.received >= RATE * 9.9 && after !== null &&
        flaps === 0;
      console.log(
        `x0tta6bl4 liveness ${candidate.intervalMs}/${candidate.deadMs} ms: ${r.received} ` +
          `received, ${r.gaps.length} gaps, ${flaps} helper flaps, ${probeFlaps} probe flaps: ${
            stable ? "stable" : "unstable"
          }`,
      );
      if (stable) return candidate;
    } finally {
      await testbedDown(stateFile);
    }
  }
  return null;
}

/** Picks babeld's fastest hello interval with no loss and no path change in a quiet stream. */
async function fastestStableBabeld(stateFile: string): Promise<number> {
  const topology = parseTopology(`grid:${GRID}`);
  for (const hello of [0.01, 0.02, 0.05, 0.1, 0.2]) {
    const state = await testbedUp(topology, upOptions(stateFile));
    try {
      await babeldMesh(hello, 0, 0).start(state);
      if (await waitRoutes(state, 60_000) === null) continue;
      await sleep(3000);
      const last = state.routers[state.routers.length - 1].name;
      const stream = await startStream(state, 10);
      await sleep(10_500);
      const r = await stream.finish();
      const after = await forwardingPath(state, "r1", last);
      // Equal-cost ties on a grid may legitimately flip the path; loss is what counts.
      const stable = r.gaps.length === 0 && r.received >= RATE * 9.9 && after !== null;
      console.log(
        `babeld hello ${hello} s: ${r.received} received, ${r.gaps.length} gaps: ${
          stable ? "stable" : "unstable"
        }`,
      );
      if (stable) return hello;
    } finally {
      await testbedDown(stateFile);
    }
  }
  return 0.2;
}

if (import.meta.main) {
  const tmp = await Deno.makeTempDir({ prefix: "x0-mttr-" });
  try {
    if (X0_FAST_SPEC !== "off") {
      await ensureLivenessBinary();
      if (!AGENT_FLAGS.some((f) => f.startsWith("--allow-run") && f.includes("x0-liveness"))) {
        throw new Error(
          "The testbed's AGENT_FLAGS do not allow running native/bin/x0-liveness " +
            "(--allow-run=ip,<root>native/bin/x0-liveness); or pass --x0-fast off",
        );
      }
    }
    if (!SOURCE) console.log(`agent bundle: ${await buildAgentBundle()}`);
    const x0 = await scenario(x0Mesh(), CUTS, KILLS, `${tmp}/x0.json`);
    const out: Record<string, unknown> = {
      topology: `grid:${GRID}`,
      control_channel: MTLS ? "mtls" : "tcp",
      rate_pps: RATE,
      ...eventKeys("", x0),
      restore_max_gap_ms: ms(Math.max(0, ...x0.restoreMs)),
      loss_outside_events_ms: ms(x0.spuriousMs),
      probe_offlines: x0.probeOfflines,
      converge_s: Math.round(x0.converge_s * 100) / 100,
      converge_after_start_s: x0.converge_after_start_s === null
        ? null
        : Math.round(x0.converge_after_start_s * 100) / 100,
      agent_entry: SOURCE ? "main.ts" : "bundle",
    };
    if (!SOURCE) {
      const src = await coldStartOnly(x0Mesh({}, `${ROOT}main.ts`), `${tmp}/x0src.json`);
      out.converge_source_s = Math.round(src.converge_s * 100) / 100;
    }
    if (X0_FAST_SPEC !== "off") {
      const liveness = X0_FAST_SPEC === "auto"
        ? await fastestStableX0(`${tmp}/x0probe.json`)
        : (([intervalMs, deadMs]) => ({ intervalMs, deadMs }))(X0_FAST_SPEC.split(":").map(Number));
      if (liveness === null) {
        console.log("x0tta6bl4 liveness: no candidate timers were stable; fast run skipped");
      } else {
        const f = await scenario(x0Mesh({ liveness }), CUTS, KILLS, `${tmp}/x0f.json`);
        Object.assign(out, {
          x0_fast_liveness_interval_ms: liveness.intervalMs,
          x0_fast_liveness_dead_ms: liveness.deadMs,
          x0_fast_timers_chosen_by: X0_FAST_SPEC === "auto" ? "fastest stable" : "flag",
          ...eventKeys("x0_fast_", f),
          x0_fast_restore_max_gap_ms: ms(Math.max(0, ...f.restoreMs)),
          x0_fast_loss_outside_events_ms: ms(f.spuriousMs),
          x0_fast_converge_s: Math.round(f.converge_s * 100) / 100,
          x0_fast_helper_downs: f.helperDowns,
          x0_fast_probe_offlines: f.probeOfflines,
        });
      }
    }
    if (X0_PROBE_FAST > 0) {
      const f = await scenario(
        x0Mesh({ probe: { intervalMs: X0_PROBE_FAST, deadProbes: X0_PROBE_FAST_DEAD } }),
        CUTS,
        KILLS,
        `${tmp}/x0pf.json`,
      );
      Object.assign(out, {
        x0_probe_fast_probe_interval_ms: X0_PROBE_FAST,
        x0_probe_fast_dead_probes: X0_PROBE_FAST_DEAD,
        ...eventKeys("x0_probe_fast_", f),
        x0_probe_fast_loss_outside_events_ms: ms(f.spuriousMs),
      });
    }
    if (WITH_BABELD) {
      const hello = await fastestStableBabeld(`${tmp}/probe.json`);
      const fast = await scenario(babeldMesh(hello, 3000, 3000), CUTS, KILLS, `${tmp}/bf.json`);
      // The setting the issue quotes (babeld with 0.1 s hellos), when it is not the fastest.
      const tenth = hello === 0.1
        ? fast
        : await scenario(babeldMesh(0.1, 3000, 3000), CUTS, KILLS, `${tmp}/b01.json`);
      const def = WITH_BABELD_DEFAULT
        ? await scenario(
          babeldMesh(null, 30_000, 15_000),
          BABELD_DEFAULT_CUTS,
          BABELD_DEFAULT_KILLS,
          `${tmp}/bd.json`,
        )
        : { cutMs: [], killMs: [] };
      Object.assign(out, {
        babeld_fast_hello_s: hello,
        ...eventKeys("babeld_fast_", fast),
        babeld_fast_loss_outside_events_ms: ms(fast.spuriousMs),
        ...eventKeys("babeld_hello_0_1_", tenth),
        ...eventKeys("babeld_default_", def),
      });
      const ratio = (a: unknown, b: unknown) =>
        typeof a === "number" && typeof b === "number" && a > 0
          ? Math.round((b / a) * 10) / 10
          : null;
      out.speedup_vs_babeld_fast_p50 = ratio(out.cut_p50_ms, out.babeld_fast_cut_p50_ms);
      out.speedup_vs_babeld_default_p50 = ratio(out.cut_p50_ms, out.babeld_default_cut_p50_ms);
      out.speedup_vs_babeld_hello_0_1_p50 = ratio(out.cut_p50_ms, out.babeld_hello_0_1_cut_p50_ms);
      out.fast_speedup_vs_babeld_fast_p50 = ratio(
        out.x0_fast_cut_p50_ms,
        out.babeld_fast_cut_p50_ms,
      );
      out.fast_speedup_vs_babeld_fast_p99 = ratio(
        out.x0_fast_cut_p99_ms,
        out.babeld_fast_cut_p99_ms,
      );
    }
    await Deno.mkdir(`${HERE}results`, { recursive: true });
    await Deno.writeTextFile(OUT, JSON.stringify(out, null, 2) + "\n");
    console.log(JSON.stringify(out));
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
