/**
 * GET /mesh/status, /mesh/peers and /mesh/routes: this node's view of the mesh.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppDeps } from "./deps.ts";

const NeighbourState = z.enum(["INITIALIZING", "ONLINE", "DEGRADED", "OFFLINE"]);
const LinkQuality = z.enum(["EXCELLENT", "GOOD", "FAIR", "POOR", "BAD"]);

/** Schema of GET /mesh/status. */
export const MeshStatusBody = z.object({
  node_id: z.string(),
  router_address: z.string().nullable(),
  backend: z.enum(["native", "yggdrasil", "batman"]),
  state: z.enum(["standalone", "converging", "converged", "isolated"]),
  neighbours: z.int().nonnegative(),
  routes: z.int().nonnegative(),
  lsa_db_size: z.int().nonnegative(),
  /** Native mesh only: in the stub phase at start (links advertised at max cost, RFC 6987). */
  stub: z.boolean().optional(),
}).openapi("MeshStatus");

/** Schema of one neighbour. */
export const MeshPeerBody = z.object({
  id: z.string(),
  address: z.string().nullable(),
  interface: z.string().nullable(),
  rtt_ms: z.number().nullable(),
  loss_percent: z.number().nullable(),
  jitter_ms: z.number().nullable(),
  quality: LinkQuality.nullable(),
  state: NeighbourState,
  last_seen: z.string().nullable().openapi({ description: "ISO-8601 time last heard from" }),
}).openapi("MeshPeer");

/** Schema of one route. */
export const MeshRouteBody = z.object({
  destination: z.string(),
  next_hop: z.string().nullable(),
  interface: z.string().nullable(),
  cost: z.number(),
  backup_next_hop: z.string().nullable(),
  backup_interface: z.string().nullable(),
  path: z.array(z.string()),
}).openapi("MeshRoute");

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { "application/json": { schema } } },
});

const statusRoute = createRoute({
  method: "get",
  path: "/mesh/status",
  summary: "This node's mesh status",
  tags: ["mesh"],
  responses: json(MeshStatusBody, "Mesh status"),
});

const peersRoute = createRoute({
  method: "get",
  path: "/mesh/peers",
  summary: "Neighbours with link measurements",
  tags: ["mesh"],
  responses: json(z.object({ peers: z.array(MeshPeerBody) }).openapi("MeshPeers"), "Neighbours"),
});

const routesRoute = createRoute({
  method: "get",
  path: "/mesh/routes",
  summary: "Routes with primary and backup next hops",
  tags: ["mesh"],
  responses: json(z.object({ routes: z.array(MeshRouteBody) }).openapi("MeshRoutes"), "Routes"),
});

/** Routes of the mesh resource. */
export function meshRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(statusRoute, (c) => c.json(deps.mesh.status(), 200));
  app.openapi(peersRoute, (c) => c.json({ peers: deps.mesh.peers() }, 200));
  app.openapi(routesRoute, (c) => c.json({ routes: deps.mesh.routes() }, 200));
  return app;
}
