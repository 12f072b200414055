/**
 * The native link-state mesh agent: probes neighbours (prober.ts), floods LSAs (flooding.ts),
 * keeps the database (lsdb.ts), recomputes routes through the WASM core on every topology
 * change (debounced), installs them in the kernel under its own protocol number, and on a
 * neighbour going OFFLINE switches every route through it to its precomputed backup before
 * flooding anything (fast reroute). With mesh.fast_liveness the native helper's `down` takes the
 * same path, and a neighbour is usable only while both the prober and the helper agree. At start
 * the router is a stub (stub_phase.ts): it advertises its links at the maximum cost until its own
 * routes are installed, so nobody uses it as a transit hop before it can forward.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/schema.ts";
import { ConfigError, errorMessage } from "../errors.ts";
import { type Lsa, MAX_LINK_COST } from "./control_message.ts";
import { type MeshInterface, resolveMeshInterfaces } from "./interfaces.ts";
import {
  BACKUP_METRIC,
  createRouteTable,
  type KernelRoute,
  PRIMARY_METRIC,
  type RouteTable,
  startIpBatch,
} from "./kernel_routes.ts";
import { createLsdb } from "./lsdb.ts";
import {
  failoverTotal,
  lsaReceived,
  meshLatency,
  meshPeersCount,
  routeInstallDuration,
  routeRecomputeDuration,
} from "./metrics.ts";
import {
  isUsable,
  type LinkStats,
  linkStats,
  type Neighbour,
  type ProbeTimers,
} from "./neighbour.ts";
import { linkWeight } from "../routing/link_weight.ts";
import { type ProbeAuth, type Prober, startProber } from "./prober.ts";
import {
  type RouteEngine,
  type RouteEntry,
  topologyFromLsas,
  wasmRouteEngine,
} from "./route_engine.ts";
import { startFlooder } from "./flooding.ts";
import {
  checkLivenessConfig,
  type LivenessGate,
  openGate,
  startLivenessGate,
} from "./liveness_gate.ts";
import { probeDeadProbes } from "./fast_liveness.ts";
import { type ControlTransport, tcpTransport } from "./transport.ts";
import { neighboursSynced, startStubPhase, type StubPhase } from "./stub_phase.ts";
import type { MeshRoute, MeshView } from "./view.ts";

const log = getLogger(["x0", "mesh"]);

/** Relative change of a link's measured weight that is worth a new LSA. */
const COST_CHANGE = 0.25;
/** Probe intervals a changed weight must persist before it is advertised. */
const COST_HOLD_TICKS = 20;

/** Routing weight of a link from its measurements: 100 / (quality_score + 1), in [16.67, 100]. */
export function measuredCost(stats: LinkStats): number {
  const w = linkWeight({
    rtt_ms: stats.rttMs ?? 0,
    loss_percent: Math.min(100, (stats.loss ?? 0) * 100),
    jitter_ms: stats.jitterMs ?? 0,
  });
  return Math.round(w * 100) / 100;
}

/** A running native mesh agent. */
export interface NativeMesh {
  view: MeshView;
  stop(): Promise<void>;
}

/**
 * Starts the native mesh agent.
 *
 * @param config the agent configuration (mesh.router_address must be set)
 * @param options node id, and for tests an alternative transport or route engine
 */
export async function startNativeMesh(
  config: Config,
  options: {
    nodeId: string;
    transport?: ControlTransport;
    engine?: RouteEngine;
    probeAuth?: ProbeAuth;
    /** The liveness helper binary (tests); default native/bin/x0-liveness. */
    livenessBinary?: string;
  },
): Promise<NativeMesh> {
  const mesh = config.mesh;
  const nodeId = options.nodeId;
  const routerAddress = mesh.router_address;
  if (!routerAddress) throw new ConfigError("Native mesh needs mesh.router_address");
  const { interfaces, skipped } = resolveMeshInterfaces(mesh.interfaces);
  for (const s of skipped) {
    log.warning("Mesh interface {name} skipped: {reason}", { name: s.name, reason: s.reason });
  }
  const timers: ProbeTimers = {
    intervalMs: mesh.probe_interval_ms,
    deadProbes: probeDeadProbes(mesh),
    upProbes: mesh.up_probes,
  };
  await checkLivenessConfig(mesh, options.livenessBinary);
  const engine = options.engine ?? await wasmRouteEngine();
  const lsdb = createLsdb({ maxAgeS: mesh.lsa_max_age_s });
  const ownsAddress = Deno.networkInterfaces().some((i) => i.address === routerAddress);

  let routeTable: RouteTable | null = null;
  let closeRunner: (() => Promise<void>) | null = null;
  if (mesh.install_routes) {
    const runner = startIpBatch();
    closeRunner = () => runner.close();
    routeTable = createRouteTable(runner, {
      protocol: mesh.route_protocol,
      src: ownsAddress ? routerAddress : null,
    });
    // Routes of our protocol left by a crashed predecessor.
    await routeTable.flush();
  }

  let seq = 0;
  let table: RouteEntry[] = [];
  let lastChange = performance.now();
  let recomputeTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // What our LSA says about each interface's link; changed only on a sustained difference.
  const advertised = new Map<
    string,
    { peer: string; quality: string; cost: number; held: number }
  >();
  const advertise = (iface: MeshInterface, n: Neighbour) =>
    advertised.set(iface.name, {
      peer: n.nodeId,
      quality: n.quality,
      cost: measuredCost(linkStats(n, timers)),
      held: 0,
    });
  // Declared before the flooder's callbacks that read it; assigned once the sockets are bound.
  // deno-lint-ignore prefer-const
  let prober: Prober | undefined;
  let gate: LivenessGate = openGate;
  /** The helper vetoes a neighbour it declared down (not one it never saw up: "unknown"). */
  const vetoed = (iface: MeshInterface) => gate.vetoed(iface);
  const usable = (iface: MeshInterface, n: Neighbour) => isUsable(n) && !vetoed(iface);

  const neighbourOf = (iface: MeshInterface): Neighbour | null =>
    prober?.neighbours().find((p) => p.iface.name === iface.name)?.neighbour ?? null;
  const usableByPeer = (): Map<string, { iface: MeshInterface; n: Neighbour }> => {
    const out = new Map<string, { iface: MeshInterface; n: Neighbour }>();
    for (const { iface, neighbour } of prober?.neighbours() ?? []) {
      if (neighbour && usable(iface, neighbour)) out.set(neighbour.nodeId, { iface, n: neighbour });
    }
    return out;
  };

  const kernelRoutes = (entries: RouteEntry[]): KernelRoute[] => {
    const peers = usableByPeer();
    const out: KernelRoute[] = [];
    for (const e of entries) {
      const destination = lsdb.get(e.destination)?.lsa.router_address;
      if (!destination || destination === routerAddress) continue;
      const primary = peers.get(e.nextHop);
      const backup = e.backupNextHop ? peers.get(e.backupNextHop) : undefined;
      const first = primary ?? backup;
      if (!first) continue;
      out.push({
        destination,
        via: first.iface.peerAddress,
        dev: first.iface.name,
        metric: PRIMARY_METRIC,
      });
      if (primary && backup) {
        out.push({
          destination,
          via: backup.iface.peerAddress,
          dev: backup.iface.name,
          metric: BACKUP_METRIC,
        });
      }
    }
    return out;
  };

  /** Installs a table; `token` (from the stub phase) marks a freshly computed one. */
  const install = (entries: RouteEntry[], token?: number) => {
    if (!routeTable || stopped) return;
    const routes = kernelRoutes(entries);
    routeTable.sync(routes).then((ms) => {
      if (token !== undefined && !stopped) {
        stub.noteInstalled(token);
        checkStub();
      }
      if (ms === 0) return;
      routeInstallDuration.observe(ms / 1000);
      const destinations = new Set(routes.map((r) => r.destination)).size;
      log.info("Kernel routes updated: {destinations} destinations in {ms} ms", {
        destinations,
        ms: Math.round(ms * 100) / 100,
      });
    }, (err) => log.error("Route install failed: {error}", { error: errorMessage(err) }));
  };

  const recompute = () => {
    recomputeTimer = undefined;
    if (stopped) return;
    const started = performance.now();
    const token = stub.noteComputed();
    // Our own LSA as advertised (max costs in the stub phase), not our real costs: every router
    // must route on the same graph, or two stubs starting together can forward in a loop.
    const topology = topologyFromLsas(lsdb.entries().map((e) => e.lsa));
    try {
      table = engine.routeTable(topology, nodeId);
    } catch (err) {
      log.error("Route computation failed: {error}", { error: errorMessage(err) });
      return;
    }
    routeRecomputeDuration.observe((performance.now() - started) / 1000);
    if (routeTable) {
      install(table, token);
    } else {
      stub.noteInstalled(token);
      checkStub();
    }
  };

  const scheduleRecompute = () => {
    lastChange = performance.now();
    recomputeTimer ??= setTimeout(recompute, mesh.recompute_debounce_ms);
  };

  /** Our next LSA as advertised: every link at MAX_LINK_COST while in the stub phase. */
  const ownLsa = (): Lsa => {
    seq = Math.max(seq + 1, Date.now());
    // Like an OSPF Full adjacency: a link is advertised only once the neighbour is usable and
    // its whole database arrived (so we hold its current LSA before anyone hears of the link).
    const links = [...usableByPeer().values()].filter(({ iface }) => flooder.full(iface)).map((
      { iface, n },
    ) => ({
      neighbour: n.nodeId,
      cost: advertised.get(iface.name)?.cost ?? measuredCost(linkStats(n, timers)),
      quality: n.quality,
    })).sort((a, b) => a.neighbour.localeCompare(b.neighbour));
    const lsa = { origin: nodeId, seq, age: 0, router_address: routerAddress, links };
    if (!stub.active()) return lsa;
    return { ...lsa, links: links.map((l) => ({ ...l, cost: MAX_LINK_COST })) };
  };

  const originate = () => {
    if (stopped) return;
    const lsa = ownLsa();
    lsdb.offer(lsa, performance.now());
    flooder.flood(lsa);
    scheduleRecompute();
  };

  /** Fast reroute: every route through `peer` moves to its backup now. */
  const fastReroute = (peer: string, iface: MeshInterface) => {
    let switched = 0;
    table = table.map((e) => {
      if (e.nextHop !== peer) return e;
      if (!e.backupNextHop || e.backupNextHop === peer) return e;
      switched++;
      return {
        ...e,
        nextHop: e.backupNextHop,
        path: e.backupPath ?? [],
        cost: e.backupCost ?? e.cost,
        backupNextHop: null,
        backupPath: null,
        backupCost: null,
        backupKind: null,
      };
    });
    routeTable?.forgetDev(iface.name);
    if (switched > 0) {
      failoverTotal.inc(switched);
      install(table);
      log.info("Fast reroute: {count} routes moved off {peer}", { count: switched, peer });
    }
  };

  /** The neighbour each interface carries traffic to (usable by both prober and helper). */
  const carrying = new Map<string, string>();
  /**
   * Brings an interface's effective neighbour in line with the prober's and the helper's view:
   * a neighbour that stops being usable (prober OFFLINE, replaced, or helper down) is rerouted
   * around at once; one that becomes usable is advertised.
   */
  const reconcile = (iface: MeshInterface, n: Neighbour | null) => {
    const was = carrying.get(iface.name);
    const now = n && usable(iface, n) ? n.nodeId : undefined;
    if (was === now) return;
    if (was !== undefined) {
      carrying.delete(iface.name);
      // Order matters: backup routes first, then tell the world.
      fastReroute(was, iface);
      flooder.drop(iface);
      meshLatency.remove({ peer: was });
      advertised.delete(iface.name);
      originate();
    }
    if (now !== undefined && n) {
      carrying.set(iface.name, now);
      advertise(iface, n);
      flooder.maintain(iface, n.nodeId, performance.now());
      originate();
    }
    meshPeersCount.set(usableByPeer().size);
  };

  const flooder = startFlooder(interfaces, {
    transport: options.transport ?? tcpTransport,
    controlPort: mesh.control_port,
    // The helper's veto does not refuse a session: a restarted neighbour's helper authenticates
    // with a key derived from the new session's probe key, so refusing it would keep the veto
    // (and the link) until the gate's HELPER_SILENT_S reset. A vetoed link carries no routes and
    // is not advertised (usable() is false), with or without a session.
    neighbourOn: (iface) => {
      const n = neighbourOf(iface);
      return n && n.state !== "OFFLINE" ? n.nodeId : null;
    },
    owner: {
      nodeId,
      routerAddress,
      database: () => lsdb.entries().map((e) => lsdb.outgoing(e, performance.now())),
      current: (origin) => {
        const e = lsdb.get(origin);
        return e ? lsdb.outgoing(e, performance.now()) : undefined;
      },
      onSessionChange: (iface) => {
        if (flooder.full(iface)) stub.noteSync();
        const n = neighbourOf(iface);
        if (n && usable(iface, n)) originate();
        checkStub();
      },
      onLsa: (lsa, iface) => {
        flooder.ack(iface, lsa);
        if (lsa.origin === nodeId) {
          lsaReceived.inc({ result: "self" });
          // A copy from before our restart: jump past it so our LSA wins again.
          if (lsa.seq >= seq) {
            seq = lsa.seq;
            originate();
          }
          return;
        }
        const now = performance.now();
        const verdict = lsdb.offer(lsa, now);
        lsaReceived.inc({ result: verdict });
        if (verdict === "new") {
          flooder.flood(lsa, iface);
          // A neighbour's LSA may complete the two-way check the stub phase waits for.
          if (stub.active() && usableByPeer().has(lsa.origin)) stub.noteSync();
          scheduleRecompute();
        } else if (verdict === "stale") {
          log.debug("Stale LSA of {origin} seq {seq} from {iface}", {
            origin: lsa.origin,
            seq: lsa.seq,
            iface: iface.name,
          });
          const held = lsdb.get(lsa.origin);
          if (held) flooder.sendTo(iface, lsdb.outgoing(held, now));
        } else if (verdict === "expired") {
          log.debug("Expired LSA of {origin} from {iface}", {
            origin: lsa.origin,
            iface: iface.name,
          });
        }
      },
    },
  });

  const stub: StubPhase = startStubPhase(mesh.stub_on_start_ms, { onEnd: () => originate() });
  /** Ends the stub phase once every heard neighbour's database is in and our routes installed. */
  const checkStub = () => {
    if (!stub.active() || stopped) return;
    stub.check(neighboursSynced((prober?.neighbours() ?? []).map(({ iface, neighbour: n }) => ({
      state: n?.state ?? null,
      vetoed: vetoed(iface),
      usable: n !== null && usable(iface, n),
      full: flooder.full(iface),
      twoWay: n !== null && !!lsdb.get(n.nodeId)?.lsa.links.some((l) => l.neighbour === nodeId),
    }))));
  };
  // Our own LSA (no links yet) is in the database before any session can open, so the first
  // database exchange already replaces a copy from before a restart everywhere.
  lsdb.offer(ownLsa(), performance.now());

  prober = await startProber(interfaces, {
    nodeId,
    routerAddress,
    probePort: mesh.probe_port,
    controlPort: mesh.control_port,
    timers,
    auth: options.probeAuth,
    events: {
      onStateChange(iface, n) {
        reconcile(iface, n);
      },
      onTick(iface, n) {
        checkStub();
        if (!n || !isUsable(n)) return;
        flooder.maintain(iface, n.nodeId, performance.now());
        if (vetoed(iface)) return;
        const a = advertised.get(iface.name);
        if (!a || a.peer !== n.nodeId || a.quality !== n.quality) {
          advertise(iface, n);
          originate();
          return;
        }
        const cost = measuredCost(linkStats(n, timers));
        a.held = Math.abs(cost - a.cost) > COST_CHANGE * a.cost ? a.held + 1 : 0;
        if (a.held >= COST_HOLD_TICKS) {
          advertise(iface, n);
          originate();
        }
      },
    },
  }).catch(async (err) => {
    stub.stop();
    await flooder.stop();
    await closeRunner?.();
    throw err;
  });

  try {
    gate = await startLivenessGate(interfaces, {
      mesh,
      probeAuth: options.probeAuth,
      binary: options.livenessBinary,
      onChange: (iface) => !stopped && reconcile(iface, neighbourOf(iface)),
    });
  } catch (err) {
    stub.stop();
    await prober.stop();
    await flooder.stop();
    await closeRunner?.();
    throw err;
  }

  originate();
  const housekeeping = setInterval(() => {
    for (const iface of gate.tick(prober!.neighbours())) reconcile(iface, neighbourOf(iface));
    for (const { n } of usableByPeer().values()) {
      const rtt = linkStats(n, timers).rttMs;
      if (rtt !== null) meshLatency.set({ peer: n.nodeId }, rtt / 1000);
    }
    const removed = lsdb.purge(performance.now());
    if (removed.length > 0) {
      log.info("LSAs aged out: {origins}", { origins: removed.join(", ") });
      scheduleRecompute();
    }
  }, 1000);
  const refresh = setInterval(originate, mesh.lsa_refresh_s * 1000);

  log.info("Native mesh started on {interfaces} as {node_id} ({address})", {
    interfaces: interfaces.map((i) => i.name).join(", ") || "(none)",
    node_id: nodeId,
    address: routerAddress,
  });

  const view: MeshView = {
    status() {
      const neighbours = usableByPeer().size;
      const settled = recomputeTimer === undefined && performance.now() - lastChange > 1000;
      return {
        node_id: nodeId,
        router_address: routerAddress,
        backend: "native",
        state: neighbours === 0 ? "isolated" : settled ? "converged" : "converging",
        neighbours,
        routes: table.length,
        lsa_db_size: lsdb.size(),
        stub: stub.active(),
      };
    },
    peers() {
      return prober!.neighbours().filter((p) => p.neighbour).map(({ iface, neighbour: n }) => {
        const s = linkStats(n!, timers);
        const r = (v: number | null, k = 1000) => v === null ? null : Math.round(v * k) / k;
        return {
          id: n!.nodeId,
          address: iface.peerAddress,
          interface: iface.name,
          rtt_ms: r(s.rttMs),
          loss_percent: s.loss === null ? null : r(s.loss * 100, 100),
          jitter_ms: r(s.jitterMs),
          quality: n!.quality,
          // A neighbour the liveness helper declared down carries no traffic, whatever probes say.
          state: isUsable(n!) && vetoed(iface) ? "OFFLINE" : n!.state,
          last_seen: n!.lastSeenWall === null ? null : new Date(n!.lastSeenWall).toISOString(),
        };
      });
    },
    routes() {
      const peers = usableByPeer();
      return table.map((e): MeshRoute => {
        const p = peers.get(e.nextHop);
        const b = e.backupNextHop ? peers.get(e.backupNextHop) : undefined;
        return {
          destination: lsdb.get(e.destination)?.lsa.router_address ?? e.destination,
          next_hop: p?.iface.peerAddress ?? null,
          interface: p?.iface.name ?? null,
          cost: e.cost,
          backup_next_hop: b?.iface.peerAddress ?? null,
          backup_interface: b?.iface.name ?? null,
          path: e.path,
        };
      });
    },
  };

  return {
    view,
    async stop() {
      stopped = true;
      stub.stop();
      clearTimeout(recomputeTimer);
      clearInterval(housekeeping);
      clearInterval(refresh);
      await gate.stop();
      await prober?.stop();
      await flooder.stop();
      if (routeTable) {
        try {
          await routeTable.flush();
        } catch (err) {
          log.error("Cannot remove mesh routes: {error}", { error: errorMessage(err) });
        }
      }
      await closeRunner?.();
      meshPeersCount.set(0);
      log.info("Native mesh stopped");
    },
  };
}
