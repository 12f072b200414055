/**
 * Metric signatures: the numeric snapshot of an incident (cpu_percent, memory_percent,
 * packet_loss_percent, rtt_ms, ...). Two incidents with close signatures are likely the same
 * fault, which is what the incident re-ranking stage rewards.
 *
 * @module
 */

/** Metric name → value. */
export type MetricSignature = Record<string, number>;

/**
 * Similarity of two signatures in [0, 1]: the mean over the union of metric names of
 * 1 − |a − b| / max(|a|, |b|, 1); a metric present in only one signature scores 0, so
 * signatures about different things stay apart. Empty or absent signatures score 0.
 *
 * @param a first signature
 * @param b second signature
 */
export function signatureSimilarity(
  a: MetricSignature | undefined,
  b: MetricSignature | undefined,
): number {
  if (!a || !b) return 0;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  if (keys.size === 0) return 0;
  let sum = 0;
  for (const key of keys) {
    const x = a[key], y = b[key];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    sum += 1 - Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1);
  }
  return sum / keys.size;
}

/**
 * Reads a metric signature out of a document's metadata (`metric_signature`), ignoring
 * non-numeric entries; undefined when there is none.
 *
 * @param metadata document metadata
 */
export function signatureOf(metadata: Record<string, unknown>): MetricSignature | undefined {
  const raw = metadata.metric_signature;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const out: MetricSignature = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}
