import assert from "node:assert/strict";
import { knowledgeConfigFromEnv, knowledgeOptions } from "../../../core/knowledge/config.ts";
import { ConfigError } from "../../../core/errors.ts";

Deno.test("knowledgeConfigFromEnv() defaults to the built-in embedder, RRF and threshold 0.7", () => {
  const cfg = knowledgeConfigFromEnv(() => undefined);
  assert.equal(cfg.embedder, "builtin");
  assert.equal(cfg.fusion, "rrf");
  assert.equal(cfg.similarity_threshold, 0.7);
  const opts = knowledgeOptions(cfg);
  assert.equal(opts.embedder!.id, "hash-ngram-v1-384");
  assert.equal(opts.minSimilarity, 0.7);
});

Deno.test("knowledgeConfigFromEnv() selects the http embedder and rejects bad values", () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  const cfg = knowledgeConfigFromEnv(env({
    X0_KB_EMBEDDER: "http",
    X0_KB_EMBEDDER_URL: "http://127.0.0.1:8080",
    X0_KB_EMBEDDER_MODEL: "bge-small",
    X0_KB_FUSION: "weighted",
  }));
  assert.equal(knowledgeOptions(cfg).embedder!.id, "http-bge-small-384");
  assert.throws(
    () => knowledgeOptions(knowledgeConfigFromEnv(env({ X0_KB_EMBEDDER: "http" }))),
    ConfigError,
  );
  assert.throws(
    () => knowledgeConfigFromEnv(env({ X0_KB_FUSION: "max" })),
    /Invalid knowledge setting fusion/,
  );
  assert.throws(
    () => knowledgeConfigFromEnv(env({ X0_KB_SIMILARITY_THRESHOLD: "high" })),
    ConfigError,
  );
});
