/**
 * A MeshView over an external fabric: each poll reads a FabricSnapshot, and the view serves
 * /mesh/status, /mesh/peers and /mesh/routes from the latest one. A neighbour that disappears
 * between two polls is reported OFFLINE (a lost peer) for a retention period; a failing read
 * marks every neighbour OFFLINE and the node isolated. The same data feeds the MAPE-K monitor
 * as link samples.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import { Counter, Gauge, metric, registry } from "../telemetry/metrics.ts";
import type { LinkQuality, MeshPeer, MeshRoute, MeshStatus, MeshView } from "../mesh/view.ts";
import {
  type FabricBackend,
  type FabricPeer,
  type FabricSnapshot,
  type FabricTopology,
  snapshotTopology,
} from "./fabric_snapshot.ts";

const log = getLogger(["x0", "fabric"]);

const polls = metric("fabric_polls_total", () =>
  new Counter({
    name: "fabric_polls_total",
    help: "Reads of the external mesh fabric by result (ok, error)",
    labelNames: ["backend", "result"] as const,
    registers: [registry],
  }));

const lostTotal = metric("fabric_peers_lost_total", () =>
  new Counter({
    name: "fabric_peers_lost_total",
    help: "Direct fabric neighbours that disappeared between two reads",
    labelNames: ["backend"] as const,
    registers: [registry],
  }));

const neighboursGauge = metric("fabric_neighbours", () =>
  new Gauge({
    name: "fabric_neighbours",
    help: "Direct fabric neighbours seen in the last read",
    labelNames: ["backend"] as const,
    registers: [registry],
  }));

/** One link measurement for the MAPE-K monitor. */
export interface LinkSample {
  /** Neighbour id at the far end of the link. */
  peer: string;
  address: string | null;
  interface: string | null;
  /** False when the neighbour was lost or the fabric could not be read. */
  up: boolean;
  rtt_ms: number | null;
  /** Loss estimated from TQ (batman-adv IV: 100 * (1 - tq / 255)), else null. */
  loss_percent: number | null;
  tq: number | null;
  throughput_kbps: number | null;
  bytes_sent: number | null;
  bytes_recvd: number | null;
  /** Epoch milliseconds of the read the sample comes from. */
  at: number;
}

/** A MeshView over a polled fabric. */
export interface FabricView extends MeshView {
  readonly backend: FabricBackend;
  /** Reads the fabric once and updates the view; throws what the read threw. */
  poll(): Promise<FabricSnapshot>;
  /** The latest successful read, or null. */
  snapshot(): FabricSnapshot | null;
  /** The error of the latest read, or null when it succeeded. */
  lastError(): string | null;
  /** Nodes and links of the latest read. */
  topology(): FabricTopology;
  /** One sample per direct neighbour, lost ones included (up: false). */
  linkSamples(): LinkSample[];
}

/**
 * Link quality class from batman-adv TQ (0-255).
 *
 * @param tq transmit quality
 */
export function tqQuality(tq: number): LinkQuality {
  if (tq >= 230) return "EXCELLENT";
  if (tq >= 180) return "GOOD";
  if (tq >= 128) return "FAIR";
  if (tq >= 64) return "POOR";
  return "BAD";
}

interface Lost {
  peer: FabricPeer;
  lostAt: number;
  lastSeenAt: number;
}

/**
 * Creates a view that polls `read` (call poll() yourself, e.g. from the scheduler).
 *
 * @param read one read of the fabric
 * @param options backend, agent node id, how long lost peers stay listed, clock
 */
export function createFabricView(
  read: () => Promise<FabricSnapshot> | FabricSnapshot,
  options: {
    backend: FabricBackend;
    nodeId: string;
    lostRetentionMs?: number;
    now?: () => number;
  },
): FabricView {
  const now = options.now ?? Date.now;
  const retention = options.lostRetentionMs ?? 600_000;
  let latest: FabricSnapshot | null = null;
  let error: string | null = null;
  const lost = new Map<string, Lost>();
  const lastSeenAt = new Map<string, number>();

  const expire = () => {
    const t = now();
    for (const [id, l] of lost) if (t - l.lostAt > retention) lost.delete(id);
  };

  const peerLastSeenAt = (p: FabricPeer, at: number) => at - (p.last_seen_ms ?? 0);

  const toMeshPeer = (p: FabricPeer, up: boolean, seenAt: number | null): MeshPeer => ({
    id: p.id,
    address: p.address,
    interface: p.interface,
    rtt_ms: p.latency_ms ?? null,
    loss_percent: p.tq !== undefined ? round2(100 * (1 - p.tq / 255)) : null,
    jitter_ms: null,
    quality: p.tq !== undefined ? tqQuality(p.tq) : null,
    state: up ? "ONLINE" : "OFFLINE",
    last_seen: seenAt === null ? null : new Date(seenAt).toISOString(),
  });

  const view: FabricView = {
    backend: options.backend,
    async poll() {
      let s: FabricSnapshot;
      try {
        s = await read();
      } catch (err) {
        polls.inc({ backend: options.backend, result: "error" });
        // one line per outage; a failing first read is reported by whoever started the view
        if (error === null && latest !== null) {
          log.warn("Cannot read the {backend} fabric: {error}", {
            backend: options.backend,
            error: errorMessage(err),
          });
        }
        error = errorMessage(err);
        throw err;
      }
      polls.inc({ backend: options.backend, result: "ok" });
      if (error !== null) log.info("Reading the {backend} fabric again", options);
      error = null;
      const current = new Set(s.neighbours.map((p) => p.id));
      if (latest) {
        for (const p of latest.neighbours) {
          if (current.has(p.id) || lost.has(p.id)) continue;
          lost.set(p.id, { peer: p, lostAt: s.at, lastSeenAt: lastSeenAt.get(p.id) ?? latest.at });
          lostTotal.inc({ backend: options.backend });
          log.warn("Lost {backend} neighbour {peer}", { backend: options.backend, peer: p.id });
        }
      }
      for (const p of s.neighbours) {
        lost.delete(p.id);
        lastSeenAt.set(p.id, peerLastSeenAt(p, s.at));
      }
      for (const id of [...lastSeenAt.keys()]) {
        if (!current.has(id) && !lost.has(id)) lastSeenAt.delete(id);
      }
      neighboursGauge.set({ backend: options.backend }, s.neighbours.length);
      latest = s;
      expire();
      return s;
    },
    snapshot: () => latest,
    lastError: () => error,
    topology: () =>
      latest ? snapshotTopology(latest) : {
        nodes: [{ id: options.nodeId, address: null, self: true }],
        links: [],
      },
    status(): MeshStatus {
      const s = latest;
      const online = error === null && s ? s.neighbours.length : 0;
      return {
        node_id: options.nodeId,
        router_address: s?.self.address ?? null,
        backend: options.backend,
        state: s === null && error === null
          ? "converging"
          : error !== null || online === 0
          ? "isolated"
          : "converged",
        neighbours: online,
        routes: error === null && s ? s.routes.length : 0,
        lsa_db_size: s?.known_nodes ?? 0,
      };
    },
    peers(): MeshPeer[] {
      expire();
      const s = latest;
      if (!s) return [];
      const up = error === null;
      const out = s.neighbours.map((p) => toMeshPeer(p, up, lastSeenAt.get(p.id) ?? s.at));
      for (const l of lost.values()) out.push(toMeshPeer(l.peer, false, l.lastSeenAt));
      return out;
    },
    routes(): MeshRoute[] {
      if (!latest || error !== null) return [];
      return latest.routes.map((r) => ({ ...r, path: [...r.path] }));
    },
    linkSamples(): LinkSample[] {
      expire();
      const s = latest;
      if (!s) return [];
      const sample = (p: FabricPeer, up: boolean): LinkSample => ({
        peer: p.id,
        address: p.address,
        interface: p.interface,
        up,
        rtt_ms: p.latency_ms ?? null,
        loss_percent: p.tq !== undefined ? round2(100 * (1 - p.tq / 255)) : null,
        tq: p.tq ?? null,
        throughput_kbps: p.throughput_kbps ?? null,
        bytes_sent: p.bytes_sent ?? null,
        bytes_recvd: p.bytes_recvd ?? null,
        at: s.at,
      });
      const out = s.neighbours.map((p) => sample(p, error === null));
      for (const l of lost.values()) out.push(sample(l.peer, false));
      return out;
    },
  };
  return view;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
