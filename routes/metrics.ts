/**
 * GET /metrics: the Prometheus text exposition of the agent's registry.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { registry } from "../core/telemetry/metrics.ts";

const route = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics",
  tags: ["node"],
  responses: {
    200: {
      description: "Prometheus text format 0.0.4",
      content: { "text/plain": { schema: z.string() } },
    },
  },
});

/** Routes of the metrics resource. */
export function metricsRoutes(): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(route, async (c) => {
    const body = await registry.metrics();
    return c.text(body, 200, { "content-type": registry.contentType });
  });
  return app;
}
