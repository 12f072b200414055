/**
 * Reliable flooding over the control channel: one session per usable neighbour (the router
 * with the smaller node id connects), HELLO then a full database exchange ended by DB_END when a
 * session opens, every LSA acknowledged, unacknowledged LSAs retransmitted on the interface tick.
 * A session is full (an adjacency worth advertising) once the peer's HELLO and DB_END arrived: we
 * then hold everything the peer knew, including its own current LSA.
 * Received messages are parsed strictly and handed to the owner, which decides what the
 * database does with them.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  type ControlMessage,
  encodeControlMessage,
  type Lsa,
  parseControlMessage,
} from "./control_message.ts";
import type { MeshInterface } from "./interfaces.ts";
import { lsaReceived } from "./metrics.ts";
import { type ControlConn, type ControlTransport, frame, readFrames } from "./transport.ts";

const log = getLogger(["x0", "mesh", "flood"]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Retransmit an unacknowledged LSA after this long. */
export const RETRANSMIT_MS = 300;
/** Wait between connection attempts to one neighbour. */
const CONNECT_RETRY_MS = 500;
/**
 * A session that has not exchanged HELLOs this long after it opened is closed, so a connection
 * stuck half-open (a handshake or HELLO lost while a link bounced) cannot block the adjacency for
 * ever: the next tick connects again.
 */
export const SYNC_TIMEOUT_MS = 3000;

interface Session {
  iface: MeshInterface;
  /** The peer's HELLO arrived. */
  synced: boolean;
  /** The peer's DB_END arrived too: its whole database was received. */
  full: boolean;
  peerId: string;
  conn: ControlConn;
  /** performance.now() when the session opened. */
  openedAt: number;
  /** Ends the session's read loop (set by the reader). */
  stopReading: () => void;
  unacked: Map<string, { seq: number; sentAt: number }>;
}

/** What the flooder asks of its owner. */
export interface FloodOwner {
  nodeId: string;
  routerAddress: string;
  /** Every LSA to send a neighbour when a session opens. */
  database(): Lsa[];
  /** The current copy of an origin's LSA (for retransmits), if held. */
  current(origin: string): Lsa | undefined;
  /** Handles a received LSA; returns whether to acknowledge it. */
  onLsa(lsa: Lsa, iface: MeshInterface): void;
  /** A session became full (the peer's HELLO and whole database received) or a full one ended. */
  onSessionChange(iface: MeshInterface): void;
}

/** The flooding machinery. */
export interface Flooder {
  /** Keeps a session open to the usable neighbour `peerId` on `iface` (called every tick). */
  maintain(iface: MeshInterface, peerId: string | null, now: number): void;
  /** Drops the session on an interface (its neighbour went OFFLINE). */
  drop(iface: MeshInterface): void;
  /** Sends an LSA on every session except the one on `except`. */
  flood(lsa: Lsa, except?: MeshInterface): void;
  /** Sends an LSA on one interface (e.g. our newer copy back to a sender of a stale one). */
  sendTo(iface: MeshInterface, lsa: Lsa): void;
  /** Acknowledges an LSA on one interface. */
  ack(iface: MeshInterface, lsa: Lsa): void;
  sessions(): number;
  /** Whether the session on `iface` is up and has exchanged HELLOs. */
  synced(iface: MeshInterface): boolean;
  /** Whether the session on `iface` is full: HELLO and the peer's whole database received. */
  full(iface: MeshInterface): boolean;
  stop(): Promise<void>;
}

/**
 * Starts the control listener and returns the flooder.
 *
 * @param interfaces the mesh interfaces (incoming connections are matched by peer address)
 * @param options transport, port, owner and the identity check of the neighbour per interface
 */
export function startFlooder(
  interfaces: MeshInterface[],
  options: {
    transport: ControlTransport;
    controlPort: number;
    owner: FloodOwner;
    /** Node id the prober sees on an interface (null if none is usable). */
    neighbourOn(iface: MeshInterface): string | null;
    /** Close a session not synchronized after this long (default {@link SYNC_TIMEOUT_MS}). */
    syncTimeoutMs?: number;
  },
): Flooder {
  const { owner, transport } = options;
  const sessions = new Map<string, Session>();
  const connecting = new Set<string>();
  const lastAttempt = new Map<string, number>();
  const readers = new Set<Promise<void>>();
  let stopped = false;

  /** Removes a session whose connection is gone; tells the owner if it was full. */
  const end = (s: Session) => {
    s.stopReading();
    s.conn.close();
    if (sessions.get(s.iface.name) !== s) return;
    sessions.delete(s.iface.name);
    if (!s.synced && !stopped) {
      // Typically the listener refusing us: its prober does not see us yet.
      log.debug("Control session on {iface} closed before the peer's HELLO after {ms} ms", {
        iface: s.iface.name,
        ms: Math.round(performance.now() - s.openedAt),
      });
    }
    if (s.full && !stopped) owner.onSessionChange(s.iface);
  };

  const write = (s: Session, m: ControlMessage) => {
    s.conn.write(frame(encoder.encode(encodeControlMessage(m)))).catch((err) => {
      // A failed write means the connection is broken, e.g. the listener closed it because its
      // prober did not see us yet. End the session now: the read side may never report the
      // close (an mTLS socket closed before the session read it), which left the session
      // waiting for a HELLO until the sync timeout.
      if (stopped || sessions.get(s.iface.name) !== s) return;
      log.debug("Control session on {iface} ended: write failed: {error}", {
        iface: s.iface.name,
        error: (err as Error).message,
      });
      end(s);
    });
  };

  const sendLsa = (s: Session, lsa: Lsa) => {
    s.unacked.set(lsa.origin, { seq: lsa.seq, sentAt: performance.now() });
    write(s, { v: 1, type: "lsa", lsa });
  };

  const open = (iface: MeshInterface, conn: ControlConn, expectedPeer: string) => {
    const old = sessions.get(iface.name);
    if (old) {
      old.stopReading();
      old.conn.close();
    }
    const s: Session = {
      iface,
      peerId: expectedPeer,
      conn,
      openedAt: performance.now(),
      unacked: new Map(),
      synced: false,
      full: false,
      stopReading: () => {},
    };
    sessions.set(iface.name, s);
    write(s, { v: 1, type: "hello", node_id: owner.nodeId, router_address: owner.routerAddress });
    const database = owner.database();
    for (const lsa of database) sendLsa(s, lsa);
    write(s, { v: 1, type: "db_end", lsas: database.length });
    const reader = read(s).finally(() => {
      readers.delete(reader);
      end(s);
    });
    readers.add(reader);
  };

  const read = async (s: Session) => {
    let helloSeen = false;
    // Whoever ends the session ends its read loop too, even if the transport's stream never
    // ends (so stop() cannot hang on it).
    const halted = new Promise<IteratorResult<Uint8Array>>((resolve) =>
      s.stopReading = () => resolve({ done: true, value: undefined })
    );
    const frames = readFrames(s.conn.readable);
    try {
      while (true) {
        const next = await Promise.race([frames.next(), halted]);
        if (next.done || stopped) return;
        const payload = next.value;
        const parsed = parseControlMessage(decoder.decode(payload));
        if (!parsed.ok) {
          lsaReceived.inc({ result: parsed.reason });
          log.warning("Rejected control message from {peer}: {reason}: {detail}", {
            peer: s.peerId,
            reason: parsed.reason,
            detail: parsed.detail,
          });
          continue;
        }
        const m = parsed.message;
        if (m.type === "hello") {
          if (m.node_id !== s.peerId) {
            log.warning("Control peer on {iface} is {got}, expected {want}; closing", {
              iface: s.iface.name,
              got: m.node_id,
              want: s.peerId,
            });
            return;
          }
          helloSeen = true;
          if (sessions.get(s.iface.name) === s) s.synced = true;
        } else if (!helloSeen) {
          lsaReceived.inc({ result: "malformed" });
          log.warning("Control message before HELLO from {iface}; closing", {
            iface: s.iface.name,
          });
          return;
        } else if (m.type === "db_end") {
          if (!s.full && sessions.get(s.iface.name) === s) {
            s.full = true;
            owner.onSessionChange(s.iface);
          }
        } else if (m.type === "ack") {
          const u = s.unacked.get(m.origin);
          if (u && u.seq <= m.seq) s.unacked.delete(m.origin);
        } else {
          owner.onLsa(m.lsa, s.iface);
        }
      }
    } catch (err) {
      if (!stopped) {
        log.debug("Control session on {iface} ended: {error}", {
          iface: s.iface.name,
          error: (err as Error).message,
        });
      }
    }
  };

  const listener = transport.listen({ hostname: "0.0.0.0", port: options.controlPort });
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const iface = interfaces.find((i) => i.peerAddress === conn.remoteAddress);
        const peer = iface ? options.neighbourOn(iface) : null;
        if (!iface || !peer || stopped) {
          conn.close();
          continue;
        }
        open(iface, conn, peer);
      }
    } catch (err) {
      if (!stopped) {
        log.error("Control listener failed: {error}", { error: (err as Error).message });
      }
    }
  })();

  return {
    maintain(iface, peerId, now) {
      const s = sessions.get(iface.name);
      if (peerId === null) return;
      if (s) {
        if (s.peerId !== peerId) {
          s.stopReading();
          s.conn.close();
        }
        if (!s.synced && now - s.openedAt > (options.syncTimeoutMs ?? SYNC_TIMEOUT_MS)) {
          log.info("Control session on {iface} not synchronized after {ms} ms; reconnecting", {
            iface: iface.name,
            ms: Math.round(now - s.openedAt),
          });
          sessions.delete(iface.name);
          s.stopReading();
          s.conn.close();
          return;
        }
        for (const [origin, u] of s.unacked) {
          if (now - u.sentAt < RETRANSMIT_MS) continue;
          const lsa = owner.current(origin);
          if (!lsa || lsa.seq < u.seq) s.unacked.delete(origin);
          else sendLsa(s, lsa);
        }
        return;
      }
      // The router with the smaller id connects; the other waits for it.
      if (owner.nodeId > peerId || connecting.has(iface.name)) return;
      if (now - (lastAttempt.get(iface.name) ?? -Infinity) < CONNECT_RETRY_MS) return;
      lastAttempt.set(iface.name, now);
      connecting.add(iface.name);
      transport.connect({ hostname: iface.peerAddress, port: options.controlPort, timeoutMs: 1000 })
        .then((conn) => {
          if (stopped || options.neighbourOn(iface) !== peerId) conn.close();
          else open(iface, conn, peerId);
        }, (err) => {
          log.debug("Control connect on {iface} failed: {error}", {
            iface: iface.name,
            error: (err as Error).message,
          });
        })
        .finally(() => connecting.delete(iface.name));
    },
    drop(iface) {
      const s = sessions.get(iface.name);
      if (!s) return;
      sessions.delete(iface.name);
      s.stopReading();
      s.conn.close();
    },
    flood(lsa, except) {
      for (const s of sessions.values()) if (s.iface.name !== except?.name) sendLsa(s, lsa);
    },
    sendTo(iface, lsa) {
      const s = sessions.get(iface.name);
      if (s) sendLsa(s, lsa);
    },
    ack(iface, lsa) {
      const s = sessions.get(iface.name);
      if (s) write(s, { v: 1, type: "ack", origin: lsa.origin, seq: lsa.seq });
    },
    sessions: () => sessions.size,
    synced: (iface) => sessions.get(iface.name)?.synced ?? false,
    full: (iface) => sessions.get(iface.name)?.full ?? false,
    async stop() {
      stopped = true;
      listener.close();
      for (const s of sessions.values()) {
        s.stopReading();
        s.conn.close();
      }
      sessions.clear();
      await accepting;
      await Promise.all([...readers]);
    },
  };
}
