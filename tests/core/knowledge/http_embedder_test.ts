import assert from "node:assert/strict";
import { httpEmbedder } from "../../../core/knowledge/http_embedder.ts";
import { hashEmbed } from "../../../core/knowledge/hash_embedder.ts";
import { ConfigError, UnavailableError } from "../../../core/errors.ts";

/**
 * A local OpenAI-compatible /v1/embeddings server (stand-in for a model server, which this
 * machine cannot download): it answers with hashed n-gram vectors scaled by 3, out of order.
 */
function startServer(mode: { fail?: boolean; dims?: number }) {
  const seen: { model: string; input: string[] }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/v1/embeddings") {
      return new Response("no", { status: 404 });
    }
    if (mode.fail) return new Response("model not loaded", { status: 500 });
    const body = await req.json();
    seen.push(body);
    const data = (body.input as string[]).map((t, index) => ({
      index,
      embedding: Array.from(hashEmbed(t, mode.dims ?? 16), (x) => x * 3),
    })).reverse();
    return Response.json({ object: "list", data, model: body.model });
  });
  return { server, seen, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("httpEmbedder() calls /v1/embeddings (stand-in server) and returns normalised vectors in input order", async () => {
  const { server, seen, url } = startServer({});
  try {
    const e = httpEmbedder({ url, model: "mini", dimensions: 16 });
    assert.equal(e.id, "http-mini-16");
    assert.equal(e.batchSize, 32);
    const out = await e.embed(["cpu high", "link down"]);
    assert.deepEqual(seen, [{ model: "mini", input: ["cpu high", "link down"] }]);
    for (const [i, t] of ["cpu high", "link down"].entries()) {
      const want = hashEmbed(t, 16);
      out[i].forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-6));
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("httpEmbedder() reports server errors, wrong dimensions and bad config clearly", async () => {
  const failing = startServer({ fail: true });
  const wrong = startServer({ dims: 8 });
  try {
    await assert.rejects(
      httpEmbedder({ url: failing.url, model: "m", dimensions: 16 }).embed(["x"]),
      (err: unknown) =>
        err instanceof UnavailableError && /answered 500: model not loaded/.test(err.message),
    );
    await assert.rejects(
      httpEmbedder({ url: wrong.url, model: "m", dimensions: 16 }).embed(["x"]),
      (err: unknown) =>
        err instanceof UnavailableError && /sent 8 dimensions, expected 16/.test(err.message),
    );
    await assert.rejects(
      httpEmbedder({ url: "http://127.0.0.1:1", model: "m", dimensions: 16, timeoutMs: 2000 })
        .embed(["x"]),
      UnavailableError,
    );
    assert.throws(
      () => httpEmbedder({ url: "not a url", model: "m", dimensions: 16 }),
      ConfigError,
    );
    assert.throws(() => httpEmbedder({ url: failing.url, model: "m", dimensions: 0 }), ConfigError);
  } finally {
    await failing.server.shutdown();
    await wrong.server.shutdown();
  }
});
