/**
 * An embedder backed by an OpenAI-compatible `POST /v1/embeddings` endpoint (a local model
 * server such as llama.cpp, vLLM, Ollama or text-embeddings-inference).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError, UnavailableError } from "../errors.ts";
import { EMBED_BATCH_SIZE, type Embedder, l2Normalize } from "./embedder.ts";

/** Settings of the external embedder. */
export interface HttpEmbedderOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` (`/v1/embeddings` is appended unless present). */
  url: string;
  /** Model name sent in the request. */
  model: string;
  /** Vector length the model returns; checked on every response. */
  dimensions: number;
  /** Bearer token, if the server wants one. */
  apiKey?: string;
  /** Texts per request (default 32). */
  batchSize?: number;
  /** Request timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
}

const ResponseSchema = z.object({
  data: z.array(
    z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) }),
  ),
});

/**
 * Returns an Embedder that calls the endpoint; vectors are L2-normalised on arrival so cosine
 * search behaves the same as with the built-in embedder.
 *
 * @param options endpoint, model and dimension
 */
export function httpEmbedder(options: HttpEmbedderOptions): Embedder {
  let endpoint: URL;
  try {
    endpoint = new URL(options.url);
  } catch {
    throw new ConfigError(`Invalid embedder url: ${options.url}`);
  }
  if (!endpoint.pathname.endsWith("/v1/embeddings")) {
    endpoint = new URL(`${endpoint.pathname.replace(/\/$/, "")}/v1/embeddings`, endpoint);
  }
  if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
    throw new ConfigError(`Invalid embedder dimensions: ${options.dimensions}`);
  }
  const batchSize = options.batchSize ?? EMBED_BATCH_SIZE;
  return {
    id: `http-${options.model}-${options.dimensions}`,
    dimensions: options.dimensions,
    batchSize,
    async embed(texts) {
      if (texts.length === 0) return [];
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify({ model: options.model, input: texts }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        throw new UnavailableError(`Embedder ${endpoint} unreachable: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (!res.ok) {
        const body = (await res.text()).slice(0, 200);
        throw new UnavailableError(`Embedder ${endpoint} answered ${res.status}: ${body}`);
      }
      const parsed = ResponseSchema.safeParse(await res.json().catch(() => null));
      if (!parsed.success) {
        throw new UnavailableError(
          `Embedder ${endpoint} sent an invalid body: ${parsed.error.issues[0]?.message}`,
        );
      }
      const out = new Array<Float32Array>(texts.length);
      for (const d of parsed.data.data) {
        if (d.index >= texts.length) {
          throw new UnavailableError(
            `Embedder ${endpoint} sent index ${d.index} for ${texts.length} inputs`,
          );
        }
        if (d.embedding.length !== options.dimensions) {
          throw new UnavailableError(
            `Embedder ${endpoint} sent ${d.embedding.length} dimensions, expected ${options.dimensions}`,
          );
        }
        out[d.index] = l2Normalize(Float32Array.from(d.embedding));
      }
      for (let i = 0; i < texts.length; i++) {
        if (!out[i]) {
          throw new UnavailableError(`Embedder ${endpoint} returned no vector for input ${i}`);
        }
      }
      return out;
    },
  };
}
