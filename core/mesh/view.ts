/**
 * What the API and the MAPE-K monitor see of the mesh: this node's status, its neighbours and
 * its routes. The native link-state agent, the Yggdrasil and the batman-adv backends each
 * provide a MeshView; a node with no mesh configured serves the standalone view.
 *
 * @module
 */

/** Neighbour state machine of the link prober (with hysteresis). */
export type NeighbourState = "INITIALIZING" | "ONLINE" | "DEGRADED" | "OFFLINE";

/** Link quality class from RTT, loss and jitter. */
export type LinkQuality = "EXCELLENT" | "GOOD" | "FAIR" | "POOR" | "BAD";

/** Overall state of this node in the mesh. */
export type MeshState = "standalone" | "converging" | "converged" | "isolated";

/** Summary of this node's place in the mesh (GET /mesh/status). */
export interface MeshStatus {
  node_id: string;
  router_address: string | null;
  backend: "native" | "yggdrasil" | "batman";
  state: MeshState;
  neighbours: number;
  routes: number;
  lsa_db_size: number;
  /**
   * True while the native agent is in its stub phase at start: it advertises every link at the
   * maximum cost, so it is reachable but not used as a transit hop (absent for other backends).
   */
  stub?: boolean;
}

/** One neighbour as measured by this node (GET /mesh/peers). */
export interface MeshPeer {
  id: string;
  address: string | null;
  interface: string | null;
  rtt_ms: number | null;
  loss_percent: number | null;
  jitter_ms: number | null;
  quality: LinkQuality | null;
  state: NeighbourState;
  /** ISO-8601 time the neighbour was last heard from, null if never. */
  last_seen: string | null;
}

/** One installed (or computed) route (GET /mesh/routes). */
export interface MeshRoute {
  destination: string;
  next_hop: string | null;
  interface: string | null;
  cost: number;
  backup_next_hop: string | null;
  backup_interface: string | null;
  /** Node ids from this node to the destination along the primary path. */
  path: string[];
}

/** A live view of the mesh as one node sees it. */
export interface MeshView {
  status(): MeshStatus;
  peers(): MeshPeer[];
  routes(): MeshRoute[];
}

/**
 * The view of a node that is not (yet) part of a mesh: itself, no peers, no routes.
 *
 * @param nodeId this node's id
 * @param routerAddress its router address, if configured
 */
export function standaloneMeshView(nodeId: string, routerAddress: string | null): MeshView {
  return {
    status: () => ({
      node_id: nodeId,
      router_address: routerAddress,
      backend: "native",
      state: "standalone",
      neighbours: 0,
      routes: 0,
      lsa_db_size: 0,
    }),
    peers: () => [],
    routes: () => [],
  };
}
