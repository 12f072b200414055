/**
 * Deterministic synthetic knowledge corpus for the kb benchmark: incidents, runbooks and notes
 * built from a seeded PRNG over a mesh-operations vocabulary, so every run indexes the same
 * 100k documents.
 *
 * @module
 */
import type { DocumentInput } from "../core/knowledge/document.ts";

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = [
  "cpu",
  "memory",
  "link",
  "neighbor",
  "route",
  "service",
  "disk",
  "clock",
  "certificate",
  "dns",
  "interface",
  "tunnel",
  "babeld",
  "yggdrasil",
  "batman",
  "xdp",
  "firewall",
  "mtu",
  "gateway",
  "radio",
];
const VERBS = [
  "saturated",
  "flapping",
  "degraded",
  "restarted",
  "dropped",
  "recovered",
  "isolated",
  "rerouted",
  "throttled",
  "expired",
  "timed out",
  "leaked",
  "spiked",
  "stalled",
  "rejected",
  "oscillating",
];
const CONTEXT = [
  "after a firmware upgrade",
  "during the evening peak",
  "while the backhaul was congested",
  "when the neighbour rebooted",
  "under heavy video traffic",
  "after a power cut on the roof",
  "during a routing table churn",
  "while the watchdog was disabled",
  "after the config push",
  "because of interference on channel 36",
  "following a kernel update",
  "while probes reported jitter",
];
const FILLER = (
  "operator observed the node metrics and compared them with the baseline window the agent " +
  "kept the backup path warm and verified traffic afterwards the alert cleared once the " +
  "probe loss returned below threshold logs showed repeated retries on the control channel " +
  "the dashboard highlighted the affected segment and the runbook step was applied manually"
).split(" ");
const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ne",
  "ru",
  "ta",
  "vo",
  "zen",
  "pri",
  "sto",
  "gra",
  "fel",
  "dor",
  "qui",
  "bas",
  "wen",
];

/** A 4000-word pseudo-vocabulary; words are drawn Zipf-like so a few are common, most rare. */
const LEXICON: string[] = (() => {
  const r = prng(7);
  const words = new Set<string>();
  while (words.size < 4000) {
    const n = 2 + Math.floor(r() * 3);
    let w = "";
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
})();

function zipfWord(r: () => number): string {
  return LEXICON[Math.floor(LEXICON.length * Math.pow(r(), 2.5))];
}

const TAGS = ["cpu", "memory", "network", "service", "routing", "hardware", "security", "radio"];
const TYPES = ["incident", "runbook", "note"] as const;
const LANGS = ["en", "en", "en", "de", "fr"];

/**
 * Document number `i` of the synthetic corpus (pure function of `i` and `seed`).
 *
 * @param i index
 * @param seed corpus seed
 */
export function syntheticDocument(i: number, seed = 42): DocumentInput {
  const r = prng(seed * 1_000_003 + i);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const node = `r${Math.floor(r() * 5000)}`;
  const words: string[] = [];
  const sentences = 2 + Math.floor(r() * 4);
  for (let s = 0; s < sentences; s++) {
    words.push(pick(SUBJECTS), "on", node, pick(VERBS), pick(CONTEXT));
    const n = 4 + Math.floor(r() * 10);
    for (let j = 0; j < n; j++) words.push(r() < 0.5 ? pick(FILLER) : zipfWord(r));
    words.push(`${Math.floor(r() * 100)}%.`);
  }
  const tags = [pick(TAGS)];
  if (r() < 0.5) tags.push(pick(TAGS));
  return {
    id: `syn-${i}`,
    content: words.join(" "),
    document_type: pick(TYPES),
    language: pick(LANGS),
    tags: [...new Set(tags)],
    source: "synthetic",
    created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    metadata: { n: i },
  };
}

/**
 * The first `n` synthetic documents.
 *
 * @param n how many
 * @param seed corpus seed
 */
export function syntheticCorpus(n: number, seed = 42): DocumentInput[] {
  return Array.from({ length: n }, (_, i) => syntheticDocument(i, seed));
}
