/**
 * The agent's side of the native liveness helper (native/liveness, `x0-liveness`): a small
 * BFD-like child process that sends a UDP hello every few milliseconds on each mesh link and
 * reports `up`/`down` per neighbour, immune to this process's GC pauses and timer slack. The
 * Deno prober keeps measuring RTT, loss and quality; a neighbour is usable only while the
 * helper has not declared it down (see native_agent.ts).
 *
 * Protocol (lines): we write `link <peer> <local> <iface> <key-hex|none>` and `key <peer> <hex>`;
 * it writes `ready`, `linked`, `up <peer>`, `down <peer>`, `badkey <peer>`, `stats {json}` and
 * `error <reason>`. It exits when its stdin closes, so it dies with the agent. A crashed helper is
 * restarted with backoff; meanwhile every verdict is "unknown" and the prober decides alone.
 *
 * Keys: with probe authentication, each neighbour's helper key is derived from the probe key the
 * mTLS session agreed (probe_auth.ts) by signing two fixed labels with it, so it is the same on
 * both ends and never leaves the process in raw form; without it the helper runs UNAUTHENTICATED.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { ConfigError, errorMessage } from "../errors.ts";
import type { Config } from "../config/schema.ts";
import type { MeshInterface } from "./interfaces.ts";
import { livenessEvents, livenessRestarts } from "./metrics.ts";
import type { ProbeAuth } from "./prober.ts";
import { rootPath } from "../paths.ts";

const log = getLogger(["x0", "mesh", "liveness"]);

/** The helper binary `deno task build:native` writes. */
export const LIVENESS_BINARY = rootPath("native/bin/x0-liveness");

/**
 * Probe intervals of silence before the prober declares a neighbour OFFLINE: mesh.dead_probes,
 * or with the helper on, enough to cover mesh.fast_liveness.probe_dead_ms (the helper is the
 * fast detector then; the probes back it up without flapping when the agent stalls).
 *
 * @param mesh the mesh configuration
 */
export function probeDeadProbes(mesh: Config["mesh"]): number {
  if (!mesh.fast_liveness.enabled) return mesh.dead_probes;
  return Math.max(
    mesh.dead_probes,
    Math.ceil(mesh.fast_liveness.probe_dead_ms / mesh.probe_interval_ms),
  );
}

/** What the helper says about one neighbour: "unknown" until it was first up. */
export type LivenessVerdict = "unknown" | "up" | "down";

/** Timers and port of the helper. */
export interface LivenessOptions {
  port: number;
  intervalMs: number;
  deadMs: number;
  upIntervals: number;
  /** Ask for SCHED_FIFO (needs CAP_SYS_NICE; refused silently into a log line otherwise). */
  realtime?: boolean;
  /**
   * Kernel route protocol of the agent's routes: on `down` the helper itself flushes the routes
   * of this protocol through the dead link's interface (the pre-installed backups through other
   * interfaces carry on at once), before the agent hears of it. None: routes are left to the agent.
   */
  flushProtocol?: number;
  /** Probe authentication to derive per-neighbour keys from; none: unauthenticated mode. */
  auth?: ProbeAuth;
  /** Called when a neighbour's verdict changes (by its link address). */
  onChange(peer: string, verdict: LivenessVerdict): void;
  /** Binary to run (tests); default {@linkcode LIVENESS_BINARY}. */
  binary?: string;
}

/** A running helper (restarted on crash until stopped). */
export interface FastLiveness {
  /** The helper's verdict on the neighbour at this link address. */
  verdict(peer: string): LivenessVerdict;
  /** Forgets the verdict on a neighbour (back to "unknown") and monitors it afresh. */
  reset(peer: string): void;
  /** PID of the running helper, null between a crash and its restart. */
  pid(): number | null;
  /** The helper's counters (its `stats` line), or null when it is not running. */
  stats(): Promise<Record<string, unknown> | null>;
  stop(): Promise<void>;
}

const LABELS = ["x0tta6bl4 liveness key v1 a", "x0tta6bl4 liveness key v1 b"].map((s) =>
  new TextEncoder().encode(s)
);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The helper key of a neighbour: the 16-byte probe tags of two fixed labels under its probe key.
 *
 * @param auth probe authentication holding the neighbour's key
 * @param peer the neighbour's link address
 */
export async function livenessKey(auth: ProbeAuth, peer: string): Promise<string> {
  const parts = await Promise.all(LABELS.map((l) => auth.seal(peer, l)));
  return parts.map((p, i) => hex(p.subarray(LABELS[i].length))).join("");
}

/**
 * Fails with a ConfigError when the helper binary is missing.
 *
 * @param binary its path
 */
export async function assertLivenessBinary(binary = LIVENESS_BINARY): Promise<void> {
  try {
    const s = await Deno.stat(binary);
    if (!s.isFile) throw new Error("not a file");
  } catch (err) {
    throw new ConfigError(
      `mesh.fast_liveness.enabled needs the liveness helper at ${binary}: ${
        err instanceof Deno.errors.NotFound ? "missing" : errorMessage(err)
      } (run deno task build:native)`,
    );
  }
}

/**
 * Starts the helper on the given links.
 *
 * @param links mesh interfaces (local and peer address)
 * @param options timers, port, key source and the verdict callback
 * @throws ConfigError when the binary is missing
 */
export async function startFastLiveness(
  links: MeshInterface[],
  options: LivenessOptions,
): Promise<FastLiveness> {
  const binary = options.binary ?? LIVENESS_BINARY;
  await assertLivenessBinary(binary);
  const verdicts = new Map<string, LivenessVerdict>();
  /** Key hex sent to the current helper per peer ("none" when unauthenticated). */
  let sentKeys = new Map<string, string>();
  let stopped = false;
  let child: Deno.ChildProcess | null = null;
  let writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  let statsWaiters: Array<(s: Record<string, unknown> | null) => void> = [];
  let backoffMs = 100;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  let childDone: Promise<void> = Promise.resolve();
  const te = new TextEncoder();

  const setVerdict = (peer: string, v: LivenessVerdict) => {
    if ((verdicts.get(peer) ?? "unknown") === v) return;
    verdicts.set(peer, v);
    livenessEvents.inc({ verdict: v });
    log.info("Fast liveness: {peer} {verdict}", { peer, verdict: v });
    options.onChange(peer, v);
  };

  const write = (line: string) => {
    writer?.write(te.encode(line + "\n")).catch(() => {/* helper gone: the supervisor sees it */});
  };

  const flush = options.flushProtocol === undefined ? "" : ` proto=${options.flushProtocol}`;
  const linkLine = (l: MeshInterface, key: string) =>
    `link ${l.peerAddress} ${l.localAddress} ${l.name} ${key}${flush}`;

  // One key sync at a time: two interleaved ones could both send `link` for a new peer, and a
  // second `link` resets the helper's verdict on it.
  let syncing: Promise<void> | null = null;
  let syncAgain = false;
  const syncKeys = (): Promise<void> => {
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = syncOnce().finally(() => {
      syncing = null;
      if (syncAgain && !stopped) {
        syncAgain = false;
        void syncKeys();
      }
    });
    return syncing;
  };

  /** Links (once keyed) and rolls keys; without auth every link is sent once, unauthenticated. */
  const syncOnce = async () => {
    for (const l of links) {
      const peer = l.peerAddress;
      if (!options.auth) {
        if (!sentKeys.has(peer)) {
          sentKeys.set(peer, "none");
          write(linkLine(l, "none"));
        }
        continue;
      }
      // No key agreed yet (no mTLS session): not monitored; the prober decides alone.
      if (!options.auth.has(peer)) continue;
      const key = await livenessKey(options.auth, peer).catch(() => null);
      if (key === null || stopped) continue;
      const sent = sentKeys.get(peer);
      if (sent === key) continue;
      sentKeys.set(peer, key);
      write(sent === undefined ? linkLine(l, key) : `key ${peer} ${key}`);
    }
  };

  const onLine = (line: string) => {
    const [word, arg, ...rest] = line.split(" ");
    switch (word) {
      case "up":
      case "down":
        if (links.some((l) => l.peerAddress === arg)) setVerdict(arg, word);
        break;
      case "badkey":
        // The neighbour may have rolled its key before us: look now rather than at the next poll.
        void syncKeys();
        break;
      case "stats": {
        let doc: Record<string, unknown> | null = null;
        try {
          doc = JSON.parse([arg, ...rest].join(" "));
        } catch {
          log.warning("Liveness helper sent unreadable stats: {line}", { line });
        }
        const waiters = statsWaiters;
        statsWaiters = [];
        for (const w of waiters) w(doc);
        break;
      }
      case "linked":
        if (rest[0] === "UNAUTHENTICATED") {
          log.debug("Fast liveness on {peer}: UNAUTHENTICATED (probe auth off)", { peer: arg });
        }
        break;
      case "error":
        if (arg === "realtime:") {
          log.info("Liveness helper runs at normal priority: {reason}", { reason: rest.join(" ") });
          break;
        }
        log.warning("Liveness helper: {message}", { message: line.slice(6) });
        break;
      case "ready":
      case "keyed":
      case "unlinked":
      case "realtime":
        log.debug("Liveness helper: {line}", { line });
        break;
      default:
        log.warning("Liveness helper said something unexpected: {line}", { line });
    }
  };

  const readLines = async (stream: ReadableStream<Uint8Array>, handle: (l: string) => void) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          handle(line);
        } catch (err) {
          log.error("Liveness event handling failed: {error}", { error: errorMessage(err) });
        }
      }
    }
  };

  const spawn = () => {
    const args = [
      "run",
      "--port",
      String(options.port),
      "--interval",
      String(options.intervalMs),
      "--dead",
      String(options.deadMs),
      "--up",
      String(options.upIntervals),
      ...(options.realtime ? ["--realtime"] : []),
    ];
    const startedAt = performance.now();
    let proc: Deno.ChildProcess;
    try {
      proc = new Deno.Command(binary, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
        .spawn();
    } catch (err) {
      throw new ConfigError(
        `Cannot run the liveness helper ${binary}: ${errorMessage(err)} (the agent needs ` +
          `--allow-run=ip,${binary})`,
      );
    }
    child = proc;
    writer = proc.stdin.getWriter();
    sentKeys = new Map();
    const out = readLines(proc.stdout, onLine);
    const err = readLines(proc.stderr, (l) => log.warning("Liveness helper: {line}", { line: l }));
    void syncKeys();
    childDone = Promise.all([proc.status, out, err]).then(([status]) => {
      if (child === proc) {
        child = null;
        writer = null;
      }
      for (const w of statsWaiters.splice(0)) w(null);
      if (stopped) return;
      // The prober decides alone until the helper is back and has seen the links up again.
      for (const peer of verdicts.keys()) setVerdict(peer, "unknown");
      if (performance.now() - startedAt > 10_000) backoffMs = 100;
      livenessRestarts.inc();
      log.error("Liveness helper exited ({code}); restarting in {ms} ms", {
        code: status.signal ?? status.code,
        ms: backoffMs,
      });
      scheduleRestart();
    }, (e) => log.error("Liveness helper I/O failed: {error}", { error: errorMessage(e) }));
  };

  const scheduleRestart = () => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      try {
        spawn();
      } catch (err) {
        log.error("Cannot restart the liveness helper: {error}", { error: errorMessage(err) });
        scheduleRestart();
      }
    }, backoffMs);
    backoffMs = Math.min(5000, backoffMs * 2);
  };

  spawn();
  // Keys change when an mTLS session is re-established: look for new ones regularly.
  const keyPoll = options.auth ? setInterval(() => void syncKeys(), 250) : undefined;
  log.info("Fast liveness helper started: {interval} ms hellos, down after {dead} ms{mode}", {
    interval: options.intervalMs,
    dead: options.deadMs,
    mode: options.auth ? "" : " (UNAUTHENTICATED: probe auth is off)",
  });

  return {
    verdict: (peer) => verdicts.get(peer) ?? "unknown",
    pid: () => child?.pid ?? null,
    reset(peer) {
      const l = links.find((x) => x.peerAddress === peer);
      const key = sentKeys.get(peer);
      if (!l || key === undefined) return;
      verdicts.set(peer, "unknown");
      write(linkLine(l, key));
    },
    stats() {
      if (!child) return Promise.resolve(null);
      return new Promise((resolve) => {
        statsWaiters.push(resolve);
        write("stats");
      });
    },
    async stop() {
      stopped = true;
      clearInterval(keyPoll);
      clearTimeout(restartTimer);
      const proc = child;
      if (!proc) return;
      // EOF on stdin is the helper's signal to exit; SIGKILL if it does not within a second.
      await writer?.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch {
          // Exited in between.
        }
      }, 1000);
      // Output readers finish too, so no stream outlives stop().
      await childDone;
      clearTimeout(timer);
    },
  };
}
