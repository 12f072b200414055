/**
 * The planner hook: given a symptom text and a metric signature, find similar past incidents
 * and recommend the action that worked for them, with a confidence. Runbooks answer when no
 * past incident is close enough.
 *
 * @module
 */
import type { KnowledgeBase, SearchHit } from "./knowledge_base.ts";
import type { FusionOptions } from "./fusion.ts";
import type { MetricSignature } from "./signature.ts";

/** A past incident similar to the current symptoms. */
export interface SimilarIncident {
  id: string;
  score: number;
  similarity?: number;
  signature_similarity?: number;
  fault_type?: string;
  action?: string;
  outcome?: string;
  mttr_s?: number;
}

/** The recommendation. */
export interface Recommendation {
  action: string;
  /** In [0, 1]: share of the evidence behind this action times the relevance of the best match. */
  confidence: number;
  /** Where the recommendation came from. */
  source: "incidents" | "runbook";
  /** Documents supporting it. */
  based_on: string[];
}

/** What the planner gets back. */
export interface RecommendResult {
  similar: SimilarIncident[];
  recommendation: Recommendation | null;
}

/** Options of {@link recommendAction}. */
export interface RecommendOptions {
  /** Past incidents to consider (default 10). */
  k?: number;
  /** Weight of failed outcomes against their action (default −0.5). */
  failureWeight?: number;
  /** Share of the ranking given to the metric signature (default 0.5). */
  signatureWeight?: number;
  /** Fusion override for the incident search. */
  fusion?: Partial<FusionOptions>;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * Recommends an action for the symptoms: searches incidents (hybrid, re-ranked by metric
 * signature), sums each action's support (hit score for a success, `failureWeight` × score for a
 * failure), and picks the best supported; falls back to the best matching runbook's action.
 *
 * @param kb the knowledge base
 * @param symptomText what the analyzer saw, in words
 * @param metricSignature the metric snapshot (may be empty)
 * @param options k and weights
 * @example
 * const r = await recommendAction(kb, "cpu_percent 97 on r3, load 12", { cpu_percent: 97 });
 * if (r.recommendation && r.recommendation.confidence > 0.5) plan(r.recommendation.action);
 */
export async function recommendAction(
  kb: KnowledgeBase,
  symptomText: string,
  metricSignature: MetricSignature,
  options: RecommendOptions = {},
): Promise<RecommendResult> {
  const k = options.k ?? 10;
  const failureWeight = options.failureWeight ?? -0.5;
  const hasSig = Object.keys(metricSignature).length > 0;
  const hits = await kb.search({
    q: symptomText,
    k,
    type: "incident",
    signature: hasSig ? metricSignature : undefined,
    signatureWeight: options.signatureWeight,
    fusion: options.fusion,
  });
  const similar: SimilarIncident[] = hits.map((h) => ({
    id: h.id,
    score: h.score,
    similarity: h.similarity,
    signature_similarity: h.signature_similarity,
    fault_type: str(h.metadata.fault_type),
    action: str(h.metadata.action),
    outcome: str(h.metadata.outcome),
    mttr_s: typeof h.metadata.mttr_s === "number" ? h.metadata.mttr_s : undefined,
  }));
  const support = new Map<string, { weight: number; ids: string[]; best: number }>();
  let total = 0;
  const top = hits[0]?.score || 1;
  for (const s of similar) {
    if (!s.action) continue;
    const rel = s.score / top;
    const w = rel * (s.outcome === "failure" ? failureWeight : 1);
    total += Math.abs(w);
    const e = support.get(s.action) ?? { weight: 0, ids: [], best: 0 };
    e.weight += w;
    if (w > 0) {
      e.ids.push(s.id);
      e.best = Math.max(e.best, relevance(hits.find((h) => h.id === s.id)!, hasSig));
    }
    support.set(s.action, e);
  }
  const ranked = [...support.entries()].filter(([, e]) => e.weight > 0).sort((a, b) =>
    b[1].weight - a[1].weight || a[0].localeCompare(b[0])
  );
  if (ranked.length > 0) {
    const [action, e] = ranked[0];
    return {
      similar,
      recommendation: {
        action,
        confidence: round((e.weight / total) * e.best),
        source: "incidents",
        based_on: e.ids,
      },
    };
  }
  const runbooks = await kb.search({ q: symptomText, k: 3, type: "runbook" });
  const rb = runbooks.find((h) => str(h.metadata.action));
  if (!rb) return { similar, recommendation: null };
  return {
    similar,
    recommendation: {
      action: str(rb.metadata.action)!,
      confidence: round(0.5 * relevance(rb, false)),
      source: "runbook",
      based_on: [rb.id],
    },
  };
}

/** Absolute relevance of a hit in [0, 1]: text cosine, averaged with the signature match. */
function relevance(h: SearchHit, withSig: boolean): number {
  const sim = Math.max(0, Math.min(1, h.similarity ?? 0));
  return withSig ? (sim + (h.signature_similarity ?? 0)) / 2 : sim;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
