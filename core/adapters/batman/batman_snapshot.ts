/**
 * Maps batman-adv tables into a FabricSnapshot: this node is its primary interface's
 * originator address; every originator is a peer reached through its best next hop; the
 * single-hop neighbours are the direct links; each originator gives a route whose backup is
 * its second-best next hop.
 *
 * @module
 */
import type { FabricPeer, FabricRoute, FabricSnapshot } from "../fabric_snapshot.ts";
import type { BatmanOriginator } from "./batadv_messages.ts";
import type { BatmanTables } from "./batadv_client.ts";

/** Ranks two next-hop entries: higher TQ, then higher throughput, then the best flag. */
function better(a: BatmanOriginator, b: BatmanOriginator): number {
  return (b.tq ?? -1) - (a.tq ?? -1) || (b.throughput_kbps ?? -1) - (a.throughput_kbps ?? -1) ||
    Number(b.best) - Number(a.best);
}

/** Route cost of an originator entry: 255 - TQ (IV) or 1e6 / throughput in kbit/s (V). */
export function originatorCost(o: BatmanOriginator): number {
  if (o.tq !== null) return 255 - o.tq;
  if (o.throughput_kbps !== null && o.throughput_kbps > 0) {
    return Math.round(1e6 / o.throughput_kbps);
  }
  return 255;
}

/**
 * Builds the snapshot of one read.
 *
 * @param t the tables read from the kernel
 * @param at epoch milliseconds of the read
 */
export function batmanSnapshot(t: BatmanTables, at: number): FabricSnapshot {
  const ifname = new Map(t.hardifs.map((h) => [h.ifindex, h.ifname]));
  const nameOf = (i: number) => ifname.get(i) ?? `ifindex${i}`;
  const selfId = t.mesh.primary_address ?? t.mesh.address;

  const byOrig = new Map<string, BatmanOriginator[]>();
  for (const o of t.originators) {
    const list = byOrig.get(o.originator) ?? [];
    list.push(o);
    byOrig.set(o.originator, list);
  }

  const peers: FabricPeer[] = [];
  const routes: FabricRoute[] = [];
  for (const [orig, entries] of [...byOrig].sort(([a], [b]) => a.localeCompare(b))) {
    const best = entries.find((e) => e.best);
    if (!best) continue; // no chosen next hop yet: batman-adv does not route to it
    const backup = entries.filter((e) => e !== best).sort(better)[0];
    peers.push(withKnown({
      id: orig,
      address: orig,
      direct: best.neighbour === orig,
      interface: nameOf(best.hard_ifindex),
      tq: best.tq,
      throughput_kbps: best.throughput_kbps,
      next_hop: best.neighbour,
      last_seen_ms: best.last_seen_ms,
    }));
    routes.push({
      destination: orig,
      next_hop: best.neighbour,
      interface: nameOf(best.hard_ifindex),
      cost: originatorCost(best),
      backup_next_hop: backup?.neighbour ?? null,
      backup_interface: backup ? nameOf(backup.hard_ifindex) : null,
      path: best.neighbour === orig ? [selfId, orig] : [selfId, best.neighbour, orig],
    });
  }

  const neighbours = t.neighbours.map((n) => {
    const own = byOrig.get(n.neighbour)?.find((o) =>
      o.neighbour === n.neighbour && o.hard_ifindex === n.hard_ifindex
    );
    return withKnown({
      id: n.neighbour,
      address: n.neighbour,
      direct: true,
      interface: nameOf(n.hard_ifindex),
      tq: own?.tq ?? null,
      throughput_kbps: n.throughput_kbps ?? own?.throughput_kbps ?? null,
      next_hop: n.neighbour,
      last_seen_ms: n.last_seen_ms,
    });
  });

  return {
    backend: "batman",
    at,
    self: {
      id: selfId,
      address: selfId,
      details: {
        meshif: t.mesh.meshif,
        mesh_address: t.mesh.address,
        algo: t.mesh.algo,
        version: t.mesh.version,
        primary_if: t.mesh.primary_if,
        hardifs: t.hardifs.map((h) => h.ifname),
      },
    },
    peers,
    neighbours,
    routes,
    known_nodes: byOrig.size,
  };
}

/** Drops the null fields so a peer carries only what batman-adv knows. */
function withKnown(
  p: Omit<FabricPeer, "tq" | "throughput_kbps"> & {
    tq: number | null;
    throughput_kbps: number | null;
  },
): FabricPeer {
  const { tq, throughput_kbps, ...rest } = p;
  return {
    ...rest,
    ...(tq !== null ? { tq } : {}),
    ...(throughput_kbps !== null ? { throughput_kbps } : {}),
  };
}
