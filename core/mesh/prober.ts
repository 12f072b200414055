/**
 * Neighbour discovery and link probing: one UDP socket per mesh interface and one timer for all
 * of them. Each tick advances every neighbour's state machine and sends a probe to each peer
 * address; every fourth probe asks for a reply, which echoes its send time (an RTT sample).
 * Loss is measured from the gaps in the neighbour's own probe sequence numbers. Between ticks a one-shot timer fires at
 * the neighbour's dead deadline, so OFFLINE is declared `dead_probes` intervals after the last
 * packet, not up to one interval later.
 *
 * @module
 */
import dgram from "node:dgram";
import { getLogger } from "@logtape/logtape";
import { jitteredDelay } from "../scheduler/scheduler.ts";
import type { MeshInterface } from "./interfaces.ts";
import { probeRejected } from "./metrics.ts";
import {
  checkDead,
  deadline,
  ECHO_EVERY,
  evaluate,
  isUsable,
  type Neighbour,
  newNeighbour,
  type ProbeTimers,
  recordHeard,
  recordProbeReceived,
  recordRtt,
} from "./neighbour.ts";
import { decodeProbe, encodeProbe } from "./probe_packet.ts";
import type { NeighbourState } from "./view.ts";

const log = getLogger(["x0", "mesh", "probe"]);

/** Bytes of the HMAC tag an authenticated probe ends with. */
const PROBE_TAG_BYTES = 16;
/** How long after a key is installed untagged probes from that neighbour are still accepted. */
const AUTH_GRACE_MS = 2000;

/** What the prober tells its owner. */
export interface ProberEvents {
  /** A neighbour changed state (also called with prev "OFFLINE" for a replaced neighbour). */
  onStateChange(iface: MeshInterface, n: Neighbour, prev: NeighbourState): void;
  /** Called once per tick of an interface, after probing (flooding retransmits ride on it). */
  onTick(iface: MeshInterface, n: Neighbour | null): void;
}

/**
 * Per-neighbour probe authentication: HMAC keys agreed over the mTLS control channel, by the
 * neighbour's link address (core/identity ProbeKeyring fits). Probes to and from a neighbour
 * with a key carry a tag; a probe from it without a valid tag is dropped and counted.
 */
export interface ProbeAuth {
  has(peer: string): boolean;
  seal(peer: string, payload: Uint8Array): Promise<Uint8Array>;
  open(peer: string, packet: Uint8Array): Promise<Uint8Array | null>;
}

/** A running prober. */
export interface Prober {
  /** The neighbour on each interface (null until heard). */
  neighbours(): Array<{ iface: MeshInterface; neighbour: Neighbour | null }>;
  stop(): Promise<void>;
}

interface Port {
  iface: MeshInterface;
  socket: dgram.Socket;
  seq: number;
  neighbour: Neighbour | null;
  dead?: ReturnType<typeof setTimeout>;
}

/**
 * Binds one UDP socket per interface and starts probing.
 *
 * @param interfaces the mesh interfaces
 * @param options identity, ports, timers and event callbacks
 */
export async function startProber(
  interfaces: MeshInterface[],
  options: {
    nodeId: string;
    routerAddress: string;
    probePort: number;
    controlPort: number;
    timers: ProbeTimers;
    events: ProberEvents;
    clock?: () => number;
    auth?: ProbeAuth;
  },
): Promise<Prober> {
  const clock = options.clock ?? (() => performance.now());
  const { timers, events } = options;
  let stopped = false;
  const ports: Port[] = [];

  const transition = (port: Port, prev: NeighbourState | null) => {
    if (prev === null || !port.neighbour) return;
    log.info("Neighbour {peer} on {iface}: {from} -> {to}", {
      peer: port.neighbour.nodeId,
      iface: port.iface.name,
      from: prev,
      to: port.neighbour.state,
    });
    events.onStateChange(port.iface, port.neighbour, prev);
  };

  const armDead = (port: Port, nextTickIn: number) => {
    if (port.dead !== undefined) clearTimeout(port.dead);
    port.dead = undefined;
    const n = port.neighbour;
    if (!n || !isUsable(n)) return;
    const due = deadline(n, timers) - clock();
    if (due >= nextTickIn) return;
    const firesAt = clock() + Math.max(0, due);
    port.dead = setTimeout(() => {
      port.dead = undefined;
      if (stopped || !port.neighbour) return;
      // Fired late: this process was stalled (CPU starvation, GC), so packets that arrived
      // meanwhile may still be queued. Give them half an interval to be read before judging.
      if (clock() - firesAt > timers.intervalMs / 4) {
        port.dead = setTimeout(() => {
          port.dead = undefined;
          if (!stopped && port.neighbour) {
            transition(port, checkDead(port.neighbour, clock(), timers));
          }
        }, timers.intervalMs / 2);
        return;
      }
      transition(port, checkDead(port.neighbour, clock(), timers));
    }, Math.max(0, due));
  };

  // From a neighbour we share a key with only tagged probes count, except untagged ones until
  // its first valid tag, for at most AUTH_GRACE_MS: the two ends install a new session's key a
  // few milliseconds apart. Without a key a tag cannot be checked: the probe counts as untagged.
  const keyedSince = new Map<string, number>();
  const strict = new Set<string>();
  const authenticate = async (peer: string, msg: Uint8Array): Promise<Uint8Array | null> => {
    const auth = options.auth;
    if (!auth?.has(peer)) {
      keyedSince.delete(peer);
      strict.delete(peer);
      const bare = msg.subarray(0, msg.length - PROBE_TAG_BYTES);
      return !decodeProbe(msg).ok && msg.length > PROBE_TAG_BYTES && decodeProbe(bare).ok
        ? bare
        : msg;
    }
    if (!keyedSince.has(peer)) keyedSince.set(peer, clock());
    const body = await auth.open(peer, msg).catch(() => null);
    if (body) {
      strict.add(peer);
      return body;
    }
    if (!strict.has(peer) && clock() - keyedSince.get(peer)! < AUTH_GRACE_MS) return msg;
    probeRejected.inc({ reason: "auth" });
    return null;
  };

  const sendRaw = (port: Port, data: Uint8Array) => {
    port.socket.send(data, options.probePort, port.iface.peerAddress, (err) => {
      // EPERM/ENETUNREACH while a link is cut are expected; the state machine handles silence.
      if (err && !stopped) log.debug("Probe send failed: {error}", { error: err.message });
    });
  };
  const send = (port: Port, data: Uint8Array) => {
    const peer = port.iface.peerAddress;
    if (!options.auth?.has(peer)) return sendRaw(port, data);
    options.auth.seal(peer, data).then(
      (sealed) => !stopped && sendRaw(port, sealed),
      (err) => log.debug("Probe seal failed: {error}", { error: (err as Error).message }),
    );
  };

  // One timer for all interfaces keeps wake-ups low when many agents share a host.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dueAt = clock();
  const tick = () => {
    if (stopped) return;
    const next = jitteredDelay(timers.intervalMs, 0.1);
    // After a stall of this process, skip one evaluation: the dead timers confirm after I/O.
    const stalled = clock() - dueAt > timers.intervalMs;
    dueAt = clock() + next;
    for (const port of ports) {
      const now = clock();
      if (port.neighbour && !stalled) transition(port, evaluate(port.neighbour, now, timers));
      port.seq = (port.seq + 1) >>> 0;
      send(
        port,
        encodeProbe({
          kind: "probe",
          seq: port.seq,
          echo: port.seq % ECHO_EVERY === 0,
          sentAt: now,
          nodeId: options.nodeId,
          routerAddress: options.routerAddress,
          controlPort: options.controlPort,
        }),
      );
      events.onTick(port.iface, port.neighbour);
      armDead(port, next);
    }
    timer = setTimeout(tick, next);
  };

  const receive = (port: Port, msg: Uint8Array, from: string) => {
    if (stopped) return;
    if (from !== port.iface.peerAddress) {
      probeRejected.inc({ reason: "source" });
      return;
    }
    const decoded = decodeProbe(msg);
    if (!decoded.ok) {
      probeRejected.inc({ reason: decoded.reason });
      log.debug("Rejected probe on {iface}: {reason}", {
        iface: port.iface.name,
        reason: decoded.reason,
      });
      return;
    }
    const p = decoded.packet;
    if (p.nodeId === options.nodeId) {
      probeRejected.inc({ reason: "self" });
      return;
    }
    const now = clock();
    if (!port.neighbour || port.neighbour.nodeId !== p.nodeId) {
      const old = port.neighbour;
      if (old && isUsable(old)) {
        const prev = old.state;
        old.state = "OFFLINE";
        transition(port, prev);
      }
      port.neighbour = newNeighbour(p);
    }
    const n = port.neighbour;
    n.routerAddress = p.routerAddress;
    n.controlPort = p.controlPort;
    recordHeard(n, now, Date.now());
    if (p.kind === "probe") {
      recordProbeReceived(n, p.seq, timers);
      if (!p.echo) return;
      send(
        port,
        encodeProbe({
          kind: "reply",
          seq: p.seq,
          sentAt: p.sentAt,
          nodeId: options.nodeId,
          routerAddress: options.routerAddress,
          controlPort: options.controlPort,
        }),
      );
    } else {
      recordRtt(n, now - p.sentAt);
    }
  };

  try {
    for (const iface of interfaces) {
      const socket = dgram.createSocket({ type: "udp4" });
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(options.probePort, iface.localAddress, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      const port: Port = { iface, socket, seq: 0, neighbour: null };
      socket.on("message", (msg: Uint8Array, rinfo: { address: string }) => {
        const handle = (data: Uint8Array) => {
          try {
            receive(port, data, rinfo.address);
          } catch (err) {
            log.error("Probe handling failed: {error}", { error: (err as Error).message });
          }
        };
        // Without probe authentication (plain TCP control channel) stay synchronous: no
        // promise per packet on the hot path.
        if (!options.auth) return handle(msg);
        authenticate(rinfo.address, msg).then((body) => body && handle(body));
      });
      socket.on(
        "error",
        (err: Error) => log.warning("Probe socket error: {error}", { error: err }),
      );
      ports.push(port);
    }
  } catch (err) {
    for (const p of ports) p.socket.close();
    throw err;
  }
  const first = Math.random() * timers.intervalMs;
  dueAt = clock() + first;
  timer = setTimeout(tick, first);

  return {
    neighbours: () => ports.map((p) => ({ iface: p.iface, neighbour: p.neighbour })),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(ports.map((p) => {
        clearTimeout(p.dead);
        return new Promise<void>((r) => p.socket.close(() => r()));
      }));
    },
  };
}
