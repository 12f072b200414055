/**
 * GET /health: the node's overall status, 200 when ok, 503 when degraded or unhealthy.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { healthValue } from "../core/health/health.ts";
import { nodeHealthStatus } from "../core/telemetry/node_metrics.ts";
import type { AppDeps } from "./deps.ts";

/** Schema of the /health body. */
export const HealthBody = z.object({
  status: z.enum(["ok", "degraded", "unhealthy"]),
  version: z.string().openapi({ example: "0.1.0" }),
  node_id: z.string(),
  uptime_s: z.number().nonnegative(),
  reasons: z.array(z.string()).optional().openapi({
    description: "Why the node is not ok, one per failing subsystem",
  }),
}).openapi("Health");

const route = createRoute({
  method: "get",
  path: "/health",
  summary: "Node health",
  tags: ["node"],
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthBody } } },
    503: {
      description: "Degraded or unhealthy",
      content: { "application/json": { schema: HealthBody } },
    },
  },
});

/** Routes of the health resource. */
export function healthRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(route, async (c) => {
    const report = await deps.health.evaluate();
    nodeHealthStatus.set(healthValue(report.status));
    const body = {
      status: report.status,
      version: deps.version,
      node_id: deps.nodeId,
      uptime_s: Math.round((performance.now() - deps.startedAt) / 10) / 100,
    };
    if (report.status === "ok") return c.json(body, 200);
    return c.json({ ...body, reasons: report.reasons }, 503);
  });
  return app;
}
