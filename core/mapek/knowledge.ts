/**
 * Knowledge of the MAPE-K loop: every incident (detection, metrics snapshot, diagnosis, plan,
 * actions, outcome, recovery time) stored durably in Deno KV with atomic writes — the record and
 * its time, type and signature indexes change together or not at all, so an incident survives
 * `kill -9` whole. Per-signature action outcomes let the planner prefer what worked before.
 *
 * @module
 */
import { NotFoundError, UnavailableError, ValidationError } from "../errors.ts";
import type { Diagnosis, DiagnosisType } from "./analyze.ts";
import type { ActionKind, Plan } from "./plan.ts";

/** Final state of an incident. */
export type IncidentOutcome =
  | "open"
  | "recovered"
  | "failed"
  | "no_action"
  | "dry_run"
  | "suppressed";

/** One action attempted for an incident. */
export interface ActionRecord {
  kind: ActionKind;
  target: string;
  started_at: string;
  finished_at: string;
  result: "success" | "failure" | "error" | "dry_run";
  detail: string;
}

/** An incident as stored and served by GET /incidents. */
export interface Incident {
  id: string;
  node_id: string;
  /** ISO-8601 time of detection. */
  detected_at: string;
  type: DiagnosisType;
  /** Diagnosis target id (service name, node id, link, neighbour). */
  target: string;
  signature: string;
  /** Latest readings of every series at detection, keyed "collector/target". */
  metrics: Record<string, Record<string, number>>;
  diagnosis: Diagnosis;
  plan: Plan | null;
  actions: ActionRecord[];
  outcome: IncidentOutcome;
  recovered_at: string | null;
  /** Seconds from detection to verified recovery. */
  mttr_s: number | null;
}

/** Success and failure counts of one action for one signature. */
export interface ActionStats {
  success: number;
  failure: number;
}

/** The incident store. */
export interface IncidentStore {
  /** Stores a new incident; fails if its id exists. */
  create(incident: Incident): Promise<void>;
  /** Applies `change` to a stored incident atomically (retrying on concurrent writes). */
  update(id: string, change: (incident: Incident) => Incident): Promise<Incident>;
  get(id: string): Promise<Incident | null>;
  /** Incidents detected at or after `since` (epoch ms), oldest first, optionally of one type. */
  list(query?: { since?: number; type?: string; limit?: number }): Promise<Incident[]>;
  /** Action outcomes recorded for a signature. */
  actionStats(signature: string): Promise<Map<ActionKind, ActionStats>>;
}

const ROOT = "incidents";
const MAX_LIST = 10_000;
const MAX_SERIES = 64;

/** A new, time-sortable incident id. */
export function newIncidentId(at = Date.now()): string {
  return `inc-${at.toString(36).padStart(9, "0")}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Latest values of every series, bounded so the record stays far below KV's value limit. */
export function metricsSnapshot(
  samples: { collector: string; target: string; values: Record<string, number> }[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of samples.slice(0, MAX_SERIES)) out[`${s.collector}/${s.target}`] = s.values;
  return out;
}

/**
 * Opens the incident store on a KV database.
 *
 * @param kv the agent's store
 */
export function incidentStore(kv: Deno.Kv): IncidentStore {
  const byId = (id: string) => [ROOT, "by_id", id];
  const at = (i: Incident) => Date.parse(i.detected_at);
  const statsKey = (sig: string, kind: string) => [ROOT, "stats", sig, kind];

  return {
    async create(incident) {
      if (!/^[A-Za-z0-9._-]{1,80}$/.test(incident.id)) {
        throw new ValidationError(`Invalid incident id: ${incident.id}`);
      }
      const t = at(incident);
      if (!Number.isFinite(t)) {
        throw new ValidationError(`Invalid incident detected_at: ${incident.detected_at}`);
      }
      const res = await kv.atomic()
        .check({ key: byId(incident.id), versionstamp: null })
        .set(byId(incident.id), incident)
        .set([ROOT, "by_time", t, incident.id], incident.id)
        .set([ROOT, "by_type", incident.type, t, incident.id], incident.id)
        .commit();
      if (!res.ok) throw new ValidationError(`Incident already exists: ${incident.id}`);
    },
    async update(id, change) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const cur = await kv.get<Incident>(byId(id));
        if (!cur.value) throw new NotFoundError(`No such incident: ${id}`);
        const next = change(structuredClone(cur.value));
        if (
          next.id !== id || next.detected_at !== cur.value.detected_at ||
          next.type !== cur.value.type
        ) {
          throw new ValidationError(`Incident ${id}: id, detected_at and type cannot change`);
        }
        const op = kv.atomic().check(cur).set(byId(id), next);
        // Count each action's outcome once, in the same commit as the record that shows it.
        const stats = new Map<string, { ok: number; bad: number }>();
        for (const a of next.actions.slice(cur.value.actions.length)) {
          if (a.result !== "success" && a.result !== "failure" && a.result !== "error") continue;
          const s = stats.get(a.kind) ?? { ok: 0, bad: 0 };
          if (a.result === "success") s.ok++;
          else s.bad++;
          stats.set(a.kind, s);
        }
        const entries = await Promise.all(
          [...stats.keys()].map((k) => kv.get<ActionStats>(statsKey(next.signature, k))),
        );
        [...stats.entries()].forEach(([kind, s], i) => {
          const prev = entries[i].value ?? { success: 0, failure: 0 };
          op.check(entries[i]).set(statsKey(next.signature, kind), {
            success: prev.success + s.ok,
            failure: prev.failure + s.bad,
          });
        });
        if ((await op.commit()).ok) return next;
      }
      throw new UnavailableError(`Cannot update incident ${id}: too many concurrent writes`);
    },
    async get(id) {
      return (await kv.get<Incident>(byId(id))).value;
    },
    async list(query = {}) {
      const since = query.since ?? 0;
      const limit = Math.min(query.limit ?? 1000, MAX_LIST);
      const prefix = query.type ? [ROOT, "by_type", query.type] : [ROOT, "by_time"];
      const ids: string[] = [];
      for await (
        const e of kv.list<string>({ start: [...prefix, since], end: [...prefix, Infinity] }, {
          limit,
        })
      ) {
        ids.push(e.value);
      }
      const records = await Promise.all(ids.map((id) => kv.get<Incident>(byId(id))));
      return records.flatMap((r) => (r.value ? [r.value] : []));
    },
    async actionStats(signature) {
      const out = new Map<ActionKind, ActionStats>();
      for await (const e of kv.list<ActionStats>({ prefix: [ROOT, "stats", signature] })) {
        out.set(e.key[3] as ActionKind, e.value);
      }
      return out;
    },
  };
}
