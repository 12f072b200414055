/**
 * Deterministic synthetic knowledge corpus for the kb benchmark: incidents, runbooks and notes
 * built from a seeded PRNG over a mesh-operations vocabulary, so every run indexes the same
 * 100k documents.
 *
 * @module
 */
import type { DocumentInput } from "../core/knowledge/document.ts";
import { seededRandom } from "../core/random/seeded_random.ts";

/** mulberry32 (see core/random/seeded_random.ts), kept under this name for callers. */
export const prng = seededRandom;

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
 * How documents are drawn: `mixture` — every sentence picks subject, verb and context
 * independently (no cluster structure: the hard case for ANN); `topics` — each document belongs
 * to one of 2000 recurring topics (the same fault on other nodes, as incident logs look) whose
 * words it mostly uses.
 */
export type CorpusKind = "mixture" | "topics";

interface Topic {
  subject: string;
  verb: string;
  context: string;
  words: string[];
}

const topicCache = new Map<string, Topic>();

function topic(t: number, seed: number): Topic {
  const key = `${seed}:${t}`;
  let tp = topicCache.get(key);
  if (!tp) {
    const r = prng(seed * 7919 + t);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    tp = {
      subject: pick(SUBJECTS),
      verb: pick(VERBS),
      context: pick(CONTEXT),
      words: Array.from({ length: 12 }, () => LEXICON[Math.floor(r() * LEXICON.length)]),
    };
    topicCache.set(key, tp);
  }
  return tp;
}

/**
 * Document number `i` of the synthetic corpus (pure function of `i`, `seed` and `kind`).
 *
 * @param i index
 * @param seed corpus seed
 * @param kind mixture (default) or topics
 */
export function syntheticDocument(
  i: number,
  seed = 42,
  kind: CorpusKind = "mixture",
): DocumentInput {
  const r = prng(seed * 1_000_003 + i);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const tp = kind === "topics" ? topic(Math.floor(r() * 2000), seed) : undefined;
  const node = `r${Math.floor(r() * 5000)}`;
  const words: string[] = [];
  const sentences = 2 + Math.floor(r() * 4);
  for (let s = 0; s < sentences; s++) {
    if (tp && r() < 0.8) words.push(tp.subject, "on", node, tp.verb, tp.context);
    else words.push(pick(SUBJECTS), "on", node, pick(VERBS), pick(CONTEXT));
    const n = 4 + Math.floor(r() * 10);
    for (let j = 0; j < n; j++) {
      const x = r();
      if (tp) words.push(x < 0.5 ? pick(tp.words) : x < 0.75 ? pick(FILLER) : zipfWord(r));
      else words.push(x < 0.5 ? pick(FILLER) : zipfWord(r));
    }
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
 * @param kind mixture (default) or topics
 */
export function syntheticCorpus(
  n: number,
  seed = 42,
  kind: CorpusKind = "mixture",
): DocumentInput[] {
  return Array.from({ length: n }, (_, i) => syntheticDocument(i, seed, kind));
}
