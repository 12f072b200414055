/**
 * GET /incidents and GET /incidents/:id: the self-healing incidents this node recorded (what
 * was detected, the diagnosis, the plan, every action and the outcome with its time to recover).
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { NotFoundError, ValidationError } from "../core/errors.ts";
import { incidentStore } from "../core/mapek/knowledge.ts";
import { ErrorBody, validationHook } from "./errors.ts";

const DiagnosisType = z.enum([
  "high_cpu",
  "high_memory",
  "network_loss",
  "service_down",
  "anomaly",
]);

const ActionBody = z.object({
  kind: z.enum(["restart_service", "clear_cache", "switch_route", "isolate_link", "no_action"]),
  target: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  result: z.enum(["success", "failure", "error", "dry_run"]),
  detail: z.string(),
});

/** Schema of one incident. */
export const IncidentBody = z.object({
  id: z.string().openapi({ example: "inc-0mhx3k2a1-4f0c9a2b" }),
  node_id: z.string(),
  detected_at: z.string().openapi({ description: "ISO-8601 time of detection" }),
  type: DiagnosisType,
  target: z.string(),
  signature: z.string(),
  metrics: z.record(z.string(), z.record(z.string(), z.number())).openapi({
    description: "Latest readings of every series at detection, keyed collector/target",
  }),
  diagnosis: z.object({
    type: DiagnosisType,
    target: z.object({
      kind: z.enum(["node", "link", "neighbour", "service"]),
      id: z.string(),
      peer: z.string().optional(),
    }),
    confidence: z.number(),
    evidence: z.record(z.string(), z.unknown()),
    signature: z.string(),
    symptom: z.string(),
  }),
  plan: z.object({
    actions: z.array(
      z.object({ kind: ActionBody.shape.kind, target: z.string(), reason: z.string() }),
    ),
    source: z.enum(["policy", "history", "knowledge"]),
    guard: z.enum(["confidence_floor", "cooldown", "rate_limit"]).nullable(),
    dry_run: z.boolean(),
    reason: z.string(),
  }).nullable(),
  actions: z.array(ActionBody),
  outcome: z.enum(["open", "recovered", "failed", "no_action", "dry_run", "suppressed"]),
  recovered_at: z.string().nullable(),
  mttr_s: z.number().nullable().openapi({
    description: "Seconds from detection to verified recovery",
  }),
}).openapi("Incident");

const listRoute = createRoute({
  method: "get",
  path: "/incidents",
  summary: "Self-healing incidents, oldest first",
  tags: ["mapek"],
  request: {
    query: z.object({
      since: z.string().optional().openapi({
        description: "Only incidents detected at or after this time (ISO-8601 or epoch ms)",
      }),
      type: DiagnosisType.optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    }),
  },
  responses: {
    200: {
      description: "Incidents",
      content: {
        "application/json": {
          schema: z.object({ incidents: z.array(IncidentBody) }).openapi("Incidents"),
        },
      },
    },
    400: { description: "Bad query", content: { "application/json": { schema: ErrorBody } } },
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/incidents/{id}",
  summary: "One incident",
  tags: ["mapek"],
  request: { params: z.object({ id: z.string().min(1).max(80) }) },
  responses: {
    200: { description: "The incident", content: { "application/json": { schema: IncidentBody } } },
    404: {
      description: "No such incident",
      content: { "application/json": { schema: ErrorBody } },
    },
  },
});

/** Parses `since` as epoch ms or an ISO-8601 time. */
function parseSince(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const t = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
  if (!Number.isFinite(t)) {
    throw new ValidationError(`Invalid query since: expected ISO-8601 or epoch ms, got ${since}`);
  }
  return t;
}

/**
 * Routes of the incidents resource.
 *
 * @param deps the agent's KV store
 */
export function incidentsRoutes(deps: { kv: Deno.Kv }): OpenAPIHono {
  const store = incidentStore(deps.kv);
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const incidents = await store.list({
      since: parseSince(q.since),
      type: q.type,
      limit: q.limit,
    });
    // deno-lint-ignore no-explicit-any
    return c.json({ incidents: incidents as any }, 200);
  });
  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const incident = await store.get(id);
    if (!incident) throw new NotFoundError(`No such incident: ${id}`);
    // deno-lint-ignore no-explicit-any
    return c.json(incident as any, 200);
  });
  return app;
}
