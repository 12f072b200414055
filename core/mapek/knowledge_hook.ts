/**
 * Bridges the MAPE-K loop and the knowledge base (core/knowledge): the planner asks the base
 * for the action that worked on similar past incidents, and every finished incident is added to
 * the base so the next query can find it.
 *
 * @module
 */
import { incidentDocument, type IncidentRecord } from "../knowledge/incident.ts";
import type { KnowledgeBase } from "../knowledge/knowledge_base.ts";
import { recommendAction } from "../knowledge/recommend.ts";
import type { Incident } from "./knowledge.ts";
import type { Recommender } from "./plan.ts";

/**
 * The planner hook over a knowledge base.
 *
 * @param kb an open knowledge base
 */
export function kbRecommender(kb: KnowledgeBase): Recommender {
  return async (symptom, signature) => {
    const { recommendation } = await recommendAction(kb, symptom, signature);
    return recommendation
      ? { action: recommendation.action, confidence: recommendation.confidence }
      : null;
  };
}

/** The knowledge base's view of a finished incident (acted-on incidents only). */
export function incidentRecord(incident: Incident): IncidentRecord | null {
  const acted = incident.actions.filter((a) => a.result !== "dry_run");
  if (acted.length === 0) return null;
  const host = incident.metrics["host/node"] ?? {};
  const metrics: Record<string, number> = {};
  for (const key of ["cpu_percent", "memory_percent", "load1"]) {
    if (typeof host[key] === "number") metrics[key] = host[key];
  }
  const loss = Object.entries(incident.metrics)
    .filter(([k]) => k.startsWith("links/"))
    .map(([, v]) => v.packet_loss_percent)
    .filter((v): v is number => typeof v === "number");
  if (loss.length) metrics.packet_loss_percent = Math.max(...loss);
  return {
    id: incident.id,
    detected_at: incident.detected_at,
    diagnosis: {
      type: incident.type,
      target: incident.target,
      confidence: incident.diagnosis.confidence,
      evidence: [incident.diagnosis.symptom],
    },
    actions: acted.map((a) => ({ action: a.kind, target: a.target, result: a.result })),
    outcome: incident.outcome === "recovered" ? "recovered" : "failed",
    metrics,
    mttr_s: incident.mttr_s ?? undefined,
    summary: incident.diagnosis.symptom,
    node_id: incident.node_id,
  };
}

/**
 * Adds a finished incident to the knowledge base (no-op for incidents without actions).
 *
 * @param kb an open knowledge base
 * @param incident the finished incident
 */
export async function recordIncident(kb: KnowledgeBase, incident: Incident): Promise<boolean> {
  const record = incidentRecord(incident);
  if (!record) return false;
  const result = await kb.add([incidentDocument(record)]);
  return result.ids.length === 1;
}
