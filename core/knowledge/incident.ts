/**
 * Incidents as knowledge documents: the MAPE-K loop records incidents (issue 5) and hands them
 * here so the planner can find "what worked last time". The conversion keeps the fields the
 * recommender reads in `metadata`: fault_type, action, outcome, mttr_s, metric_signature.
 *
 * @module
 */
import type { DocumentInput } from "./document.ts";
import type { MetricSignature } from "./signature.ts";

/** Outcome of the action taken for an incident. */
export type IncidentOutcome = "success" | "failure";

/** The incident fields the knowledge base uses (a subset of the MAPE-K incident record). */
export interface IncidentRecord {
  id: string;
  /** ISO time or epoch milliseconds. */
  detected_at: string | number;
  /** Diagnosis: fault type (high_cpu, service_down, network_loss, ...) and target. */
  diagnosis: { type: string; target?: string; confidence?: number; evidence?: string[] };
  /** Actions taken in order; the last one is the one that settled the incident. */
  actions: { action: string; target?: string; result?: string }[];
  outcome: IncidentOutcome | "recovered" | "failed";
  /** Metric snapshot at detection (cpu_percent, memory_percent, packet_loss_percent, ...). */
  metrics?: MetricSignature;
  mttr_s?: number;
  /** Free-text symptoms or operator notes. */
  summary?: string;
  node_id?: string;
}

/**
 * Builds the knowledge document for an incident (id `incident:<id>`, type incident, tags
 * fault type and action, metadata for the recommender).
 *
 * @param inc the incident record
 */
export function incidentDocument(inc: IncidentRecord): DocumentInput {
  const last = inc.actions.at(-1);
  const outcome: IncidentOutcome = inc.outcome === "success" || inc.outcome === "recovered"
    ? "success"
    : "failure";
  const metrics = Object.entries(inc.metrics ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
  const lines = [
    `${inc.diagnosis.type.replaceAll("_", " ")} on ${
      inc.diagnosis.target ?? inc.node_id ?? "node"
    }`,
    inc.summary ?? "",
    inc.diagnosis.evidence?.join("; ") ?? "",
    metrics ? `metrics: ${metrics}` : "",
    `actions: ${inc.actions.map((a) => a.action).join(", ") || "none"}; outcome: ${outcome}`,
  ].filter(Boolean);
  const tag = (s: string) =>
    s.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "unknown";
  return {
    id: `incident:${inc.id}`,
    content: lines.join("\n"),
    document_type: "incident",
    source: "mapek",
    created_at: typeof inc.detected_at === "number"
      ? inc.detected_at
      : new Date(inc.detected_at).toISOString(),
    tags: [...new Set([tag(inc.diagnosis.type), ...(last ? [tag(last.action)] : [])])],
    metadata: {
      fault_type: inc.diagnosis.type,
      target: inc.diagnosis.target,
      action: last?.action ?? "no_action",
      actions: inc.actions.map((a) => a.action),
      outcome,
      mttr_s: inc.mttr_s,
      metric_signature: inc.metrics ?? {},
      node_id: inc.node_id,
    },
  };
}
