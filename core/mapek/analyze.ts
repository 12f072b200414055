/**
 * Analyze phase: turns the monitor's history into diagnoses. Baseline rules (cpu_percent > 90
 * High CPU, memory_percent > 85 High Memory, packet_loss_percent > 5 Network Loss, a service
 * failing its checks; thresholds configurable, sustained over several cycles), an Isolation
 * Forest trained online on this node's healthy cycles whose score adjusts confidence (and alone
 * raises an "anomaly" diagnosis), and neighbourhood aggregation that places link loss on this
 * node, one link or a neighbour.
 *
 * @module
 */
import type { OnlineForest } from "./anomaly.ts";
import type { Monitor, Sample, Snapshot } from "./monitor.ts";
import { type LinkLoss, localiseLoss } from "./neighbourhood.ts";

/** Kinds of fault the loop diagnoses. */
export type DiagnosisType =
  | "high_cpu"
  | "high_memory"
  | "network_loss"
  | "service_down"
  | "anomaly";

/** What a diagnosis is about. */
export interface DiagnosisTarget {
  kind: "node" | "link" | "neighbour" | "service";
  /** Node id, "self|peer" for a link, peer id, or service name. */
  id: string;
  /** The neighbour on the link (link and neighbour targets). */
  peer?: string;
}

/** The analyzer's verdict on one fault. */
export interface Diagnosis {
  type: DiagnosisType;
  target: DiagnosisTarget;
  /** In [0, 1]. */
  confidence: number;
  /** Readings and reasoning behind the verdict. */
  evidence: Record<string, unknown>;
  /** Stable key of this kind of fault for "what worked before": `${type}:${target.kind}`. */
  signature: string;
  /** One-line human description (also the knowledge-base query). */
  symptom: string;
}

/** Thresholds and windows of the analyzer. */
export interface AnalyzerOptions {
  nodeId: string;
  cpuPercent: number;
  memoryPercent: number;
  packetLossPercent: number;
  anomalyScore: number;
  sustainCycles: number;
  serviceFailures: number;
  /** The online Isolation Forest; absent: rules only. */
  forest?: OnlineForest;
  /** Links measured elsewhere in the mesh (from the topology), for localisation. */
  remoteLinks?: () => LinkLoss[];
}

/** Feature names of a cycle, in row order (the forest's columns). */
export const FEATURES = [
  "cpu_percent",
  "memory_percent",
  "max_loss_percent",
  "mean_rtt_ms",
  "services_down",
] as const;

/** The result of analysing one snapshot. */
export interface Analysis {
  diagnoses: Diagnosis[];
  /** Feature row of this cycle, null when the host reading is incomplete. */
  features: number[] | null;
  anomalyScore: number | null;
  /** True when no rule is even partly triggered (the row may train the forest). */
  healthy: boolean;
}

const clamp = (x: number, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, x));
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** The analyzer. */
export interface Analyzer {
  analyze(snapshot: Snapshot, monitor: Monitor): Analysis;
}

/**
 * Creates an analyzer.
 *
 * @param options thresholds, sustain windows, forest and topology source
 */
export function createAnalyzer(options: AnalyzerOptions): Analyzer {
  const sustained = (history: Sample[], key: string, threshold: number) => {
    const tail = history.slice(-options.sustainCycles);
    if (tail.length < options.sustainCycles) return null;
    const vals = tail.map((s) => s.values[key]);
    if (vals.some((v) => v === undefined || !(v > threshold))) return null;
    return vals as number[];
  };
  const severity = (vals: number[], threshold: number, ceiling: number) =>
    clamp((Math.min(...vals) - threshold) / Math.max(1e-9, ceiling - threshold));
  const withAnomaly = (base: number, score: number | null) =>
    clamp(score === null ? base : base + 0.2 * (score - 0.5));
  let anomalousCycles = 0;

  return {
    analyze(snapshot, monitor) {
      const diagnoses: Diagnosis[] = [];
      const host = snapshot.samples.find((s) => s.collector === "host");
      const links = snapshot.samples.filter((s) => s.collector === "links");
      const services = snapshot.samples.filter((s) => s.collector === "services");
      const down = services.filter((s) => s.values.up === 0);

      const losses = links.map((l) => l.values.packet_loss_percent).filter((v) => v !== undefined);
      const rtts = links.map((l) => l.values.rtt_ms).filter((v) => v !== undefined);
      const cpu = host?.values.cpu_percent, mem = host?.values.memory_percent;
      const features = cpu === undefined || mem === undefined ? null : [
        cpu,
        mem,
        losses.length ? Math.max(...losses) : 0,
        rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : 0,
        down.length,
      ];
      const anomalyScore = features && options.forest ? options.forest.score(features) : null;
      const healthy = features !== null && cpu! <= options.cpuPercent &&
        mem! <= options.memoryPercent && down.length === 0 &&
        losses.every((l) => l <= options.packetLossPercent);
      const metrics = features
        ? Object.fromEntries(FEATURES.map((f, i) => [f, round(features[i])]))
        : {};
      const nodeTarget: DiagnosisTarget = { kind: "node", id: options.nodeId };

      const hostHistory = monitor.history("host", "node");
      const resourceRule = (
        type: "high_cpu" | "high_memory",
        key: string,
        threshold: number,
        label: string,
      ) => {
        const vals = sustained(hostHistory, key, threshold);
        if (!vals) return;
        const confidence = withAnomaly(0.6 + 0.4 * severity(vals, threshold, 100), anomalyScore);
        diagnoses.push({
          type,
          target: nodeTarget,
          confidence: round(confidence),
          evidence: {
            rule: `${key} > ${threshold} for ${options.sustainCycles} cycles`,
            values: vals.map((v) => round(v, 1)),
            anomaly_score: anomalyScore === null ? null : round(anomalyScore),
            scope: host?.labels?.scope,
            metrics,
          },
          signature: `${type}:node`,
          symptom: `${label} on ${options.nodeId}: ${key} ${round(vals.at(-1)!, 1)} > ${threshold}`,
        });
      };
      resourceRule("high_cpu", "cpu_percent", options.cpuPercent, "High CPU");
      resourceRule("high_memory", "memory_percent", options.memoryPercent, "High Memory");

      for (const s of down) {
        const history = monitor.history("services", s.target);
        const exited = s.values.exited === 1;
        const failing = history.slice(-options.serviceFailures);
        if (
          !exited &&
          (failing.length < options.serviceFailures || failing.some((h) => h.values.up !== 0))
        ) {
          continue;
        }
        diagnoses.push({
          type: "service_down",
          target: { kind: "service", id: s.target },
          confidence: exited ? 1 : round(withAnomaly(0.9, anomalyScore)),
          evidence: {
            rule: exited
              ? "supervised process exited"
              : `checks failed ${options.serviceFailures} times`,
            reason: s.labels?.reason ?? null,
            values: s.values,
            anomaly_score: anomalyScore === null ? null : round(anomalyScore),
            metrics,
          },
          signature: "service_down:service",
          symptom: `Service ${s.target} down on ${options.nodeId}: ${
            s.labels?.reason ?? "checks failed"
          }`,
        });
      }

      const measured: LinkLoss[] = links.flatMap((l) =>
        l.values.packet_loss_percent === undefined
          ? []
          : [{ a: options.nodeId, b: l.target, loss_percent: l.values.packet_loss_percent }]
      );
      const all = [...measured, ...(options.remoteLinks?.() ?? [])];
      for (const l of links) {
        // A dead neighbour is the mesh's fast reroute's job; the loop heals links that still
        // carry traffic badly.
        if (l.values.online === 0) continue;
        const vals = sustained(
          monitor.history("links", l.target),
          "packet_loss_percent",
          options.packetLossPercent,
        );
        if (!vals) continue;
        const where = localiseLoss(options.nodeId, l.target, all, options.packetLossPercent);
        const base = 0.6 + 0.4 * severity(vals, options.packetLossPercent, 50);
        // Localisation backed by measurements on both sides is surer than one side alone.
        const known = where.neighbourOthersLoss !== null ? 0.05 : 0;
        diagnoses.push({
          type: "network_loss",
          target: { kind: where.kind, id: where.id, peer: l.target },
          confidence: round(withAnomaly(clamp(base + known), anomalyScore)),
          evidence: {
            rule:
              `packet_loss_percent > ${options.packetLossPercent} for ${options.sustainCycles} cycles`,
            values: vals.map((v) => round(v, 1)),
            interface: l.labels?.interface ?? null,
            self_other_links_loss: where.selfOthersLoss,
            neighbour_other_links_loss: where.neighbourOthersLoss,
            anomaly_score: anomalyScore === null ? null : round(anomalyScore),
            metrics,
          },
          signature: `network_loss:${where.kind}`,
          symptom: `Network Loss on ${where.kind} ${where.id}: ${
            round(vals.at(-1)!, 1)
          }% > ${options.packetLossPercent}%`,
        });
      }

      anomalousCycles = anomalyScore !== null && anomalyScore > options.anomalyScore
        ? anomalousCycles + 1
        : 0;
      if (diagnoses.length === 0 && anomalousCycles >= options.sustainCycles) {
        diagnoses.push({
          type: "anomaly",
          target: nodeTarget,
          confidence: round(anomalyScore!),
          evidence: { anomaly_score: round(anomalyScore!), cycles: anomalousCycles, metrics },
          signature: "anomaly:node",
          symptom: `Anomalous metrics on ${options.nodeId}: isolation score ${
            round(anomalyScore!)
          }`,
        });
      }
      if (healthy && features && options.forest) options.forest.learn(features);
      return { diagnoses, features, anomalyScore, healthy };
    },
  };
}
