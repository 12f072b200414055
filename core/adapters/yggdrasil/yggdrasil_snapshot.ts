/**
 * Maps Yggdrasil admin tables into a FabricSnapshot: this node is its public key; every
 * connected peer is a direct neighbour (with byte counters, and latency where the daemon
 * reports it); routes are the direct peers (one hop) and the established paths, whose first
 * switch port names the peer they leave through.
 *
 * @module
 */
import type { FabricPeer, FabricRoute, FabricSnapshot } from "../fabric_snapshot.ts";
import type { YggdrasilTables } from "./admin_client.ts";

/**
 * Builds the snapshot of one read.
 *
 * @param t the tables read from the admin socket
 * @param at epoch milliseconds of the read
 */
export function yggdrasilSnapshot(t: YggdrasilTables, at: number): FabricSnapshot {
  const peers: FabricPeer[] = t.peers.map((p) => ({
    id: p.key,
    address: p.address,
    direct: true,
    // the remote URI is not a local interface name (the eBPF collector reads interfaces)
    interface: null,
    remote: p.remote,
    ...(p.latency_ms !== null ? { latency_ms: p.latency_ms } : {}),
    bytes_sent: p.bytes_sent,
    bytes_recvd: p.bytes_recvd,
    uptime_s: p.uptime_s,
  }));
  const byPort = new Map(t.peers.map((p) => [p.port, p]));
  const routes: FabricRoute[] = t.peers.map((p) => ({
    destination: p.address,
    next_hop: p.address,
    interface: null,
    cost: 1,
    backup_next_hop: null,
    backup_interface: null,
    path: [t.self.key, p.key],
  }));
  const routed = new Set(t.peers.map((p) => p.address));
  for (const path of t.paths) {
    if (routed.has(path.address) || path.address === t.self.address) continue;
    const via = path.path.length > 0 ? byPort.get(path.path[0]) : undefined;
    routed.add(path.address);
    routes.push({
      destination: path.address,
      next_hop: via?.address ?? null,
      interface: null,
      cost: path.path.length,
      backup_next_hop: null,
      backup_interface: null,
      path: via && via.key !== path.key ? [t.self.key, via.key, path.key] : [t.self.key, path.key],
    });
  }
  return {
    backend: "yggdrasil",
    at,
    self: {
      id: t.self.key,
      address: t.self.address,
      details: {
        key: t.self.key,
        subnet: t.self.subnet,
        coords: t.self.coords,
        build_name: t.self.build_name,
        build_version: t.self.build_version,
        sessions: t.sessions.length,
      },
    },
    peers,
    neighbours: peers,
    routes,
    known_nodes: t.dht.length,
  };
}
