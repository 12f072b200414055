/**
 * The MAPE-K self-healing loop (re-exports only).
 *
 * @module
 */
export { type Mapek, type MapekDeps, startMapek } from "./loop.ts";
export {
  type ActionRecord,
  type Incident,
  type IncidentOutcome,
  type IncidentStore,
  incidentStore,
} from "./knowledge.ts";
export type { Diagnosis, DiagnosisTarget, DiagnosisType } from "./analyze.ts";
export type { ActionKind, Plan, PlannedAction, Recommendation, Recommender } from "./plan.ts";
export type { MeshRouteActions } from "./executors/route.ts";
