/**
 * The `knowledge` configuration section and the knowledge-base options it yields. The config
 * owner embeds {@link KnowledgeConfigSchema} under `knowledge`; the CLI reads the same keys from
 * X0_KB_* environment variables.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import type { Embedder } from "./embedder.ts";
import { hashEmbedder } from "./hash_embedder.ts";
import { httpEmbedder } from "./http_embedder.ts";
import type { KnowledgeBaseOptions } from "./knowledge_base.ts";

/** Schema of the `knowledge` config section. */
export const KnowledgeConfigSchema = z.object({
  /** `builtin` (hashed n-grams, no download) or `http` (OpenAI-compatible /v1/embeddings). */
  embedder: z.enum(["builtin", "http"]).default("builtin"),
  embedder_url: z.url().optional(),
  embedder_model: z.string().min(1).default("default"),
  embedder_dimensions: z.int().min(1).max(8192).default(384),
  embedder_api_key: z.string().optional(),
  /** Full-text engine: built-in BM25 (default) or Orama. */
  text_engine: z.enum(["bm25", "orama"]).default("bm25"),
  fusion: z.enum(["rrf", "weighted"]).default("rrf"),
  rrf_k: z.number().positive().default(60),
  text_weight: z.number().min(0).max(1).default(0.5),
  /** Vector-only hits below this cosine similarity are dropped. */
  similarity_threshold: z.number().min(-1).max(1).default(0.7),
  hnsw_m: z.int().min(2).max(128).default(32),
  hnsw_ef_construction: z.int().min(8).max(2000).default(64),
  hnsw_ef_search: z.int().min(8).max(5000).default(400),
}).strict();

/** Parsed `knowledge` section. */
export type KnowledgeConfig = z.infer<typeof KnowledgeConfigSchema>;

/**
 * Builds the embedder the config selects.
 *
 * @param cfg the knowledge section
 */
export function embedderFromConfig(cfg: KnowledgeConfig): Embedder {
  if (cfg.embedder === "builtin") return hashEmbedder({ dimensions: cfg.embedder_dimensions });
  if (!cfg.embedder_url) {
    throw new ConfigError("Invalid knowledge.embedder_url: required when embedder is http");
  }
  return httpEmbedder({
    url: cfg.embedder_url,
    model: cfg.embedder_model,
    dimensions: cfg.embedder_dimensions,
    apiKey: cfg.embedder_api_key,
  });
}

/**
 * Knowledge-base options from the config section.
 *
 * @param cfg the knowledge section
 */
export function knowledgeOptions(cfg: KnowledgeConfig): KnowledgeBaseOptions {
  return {
    embedder: embedderFromConfig(cfg),
    textEngine: cfg.text_engine,
    fusion: { mode: cfg.fusion, rrfK: cfg.rrf_k, textWeight: cfg.text_weight },
    minSimilarity: cfg.similarity_threshold,
    hnsw: { m: cfg.hnsw_m, efConstruction: cfg.hnsw_ef_construction, efSearch: cfg.hnsw_ef_search },
  };
}

/**
 * The knowledge section from X0_KB_* environment variables (X0_KB_EMBEDDER, X0_KB_EMBEDDER_URL,
 * X0_KB_EMBEDDER_MODEL, X0_KB_EMBEDDER_DIMENSIONS, X0_KB_TEXT_ENGINE, X0_KB_FUSION,
 * X0_KB_SIMILARITY_THRESHOLD); throws ConfigError on bad values.
 *
 * @param env environment lookup (default Deno.env.get)
 */
export function knowledgeConfigFromEnv(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): KnowledgeConfig {
  const raw: Record<string, unknown> = {};
  const num = (k: string) => (env(k) === undefined ? undefined : Number(env(k)));
  const set = (key: string, v: unknown) => v !== undefined && (raw[key] = v);
  set("embedder", env("X0_KB_EMBEDDER"));
  set("embedder_url", env("X0_KB_EMBEDDER_URL"));
  set("embedder_model", env("X0_KB_EMBEDDER_MODEL"));
  set("embedder_dimensions", num("X0_KB_EMBEDDER_DIMENSIONS"));
  set("text_engine", env("X0_KB_TEXT_ENGINE"));
  set("fusion", env("X0_KB_FUSION"));
  set("similarity_threshold", num("X0_KB_SIMILARITY_THRESHOLD"));
  const res = KnowledgeConfigSchema.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0];
    throw new ConfigError(`Invalid knowledge setting ${i.path.join(".")}: ${i.message}`);
  }
  return res.data;
}
