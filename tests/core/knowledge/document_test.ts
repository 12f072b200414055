import assert from "node:assert/strict";
import { contentHash, documentView, parseDocuments } from "../../../core/knowledge/document.ts";
import { ValidationError } from "../../../core/errors.ts";

Deno.test("parseDocuments() applies defaults and keeps supplied fields", () => {
  const [d] = parseDocuments([{ content: "x", document_type: "note" }], {
    dimensions: 4,
    now: () => 1000,
  });
  assert.equal(d.language, "en");
  assert.equal(d.source, "api");
  assert.deepEqual(d.tags, []);
  assert.deepEqual(d.metadata, {});
  assert.equal(d.created_at, 1000);
  assert.match(d.id, /^[0-9a-f-]{36}$/);
  const [e] = parseDocuments([{
    id: "a:b",
    content: "y",
    document_type: "incident",
    created_at: "2026-01-02T03:04:05+01:00",
    tags: ["cpu", "cpu"],
    embedding: [1, 0, 0, 0],
  }], { dimensions: 4 });
  assert.equal(e.created_at, Date.parse("2026-01-02T02:04:05Z"));
  assert.deepEqual(e.tags, ["cpu"]);
  assert.deepEqual(e.embedding, new Float32Array([1, 0, 0, 0]));
});

Deno.test("parseDocuments() rejects the whole batch and names every bad document", () => {
  const bad = [
    { content: "ok", document_type: "note" },
    { id: "no type", content: "x" },
    { id: "e1", content: "x", document_type: "note", created_at: "yesterday" },
    { id: "e2", content: "x", document_type: "note", language: "English" },
    { id: "e3", content: "x".repeat(200_001), document_type: "note" },
  ];
  try {
    parseDocuments(bad, { dimensions: 4 });
    assert.fail("expected a ValidationError");
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    const rejected = err.details!.rejected as { index: number; reason: string }[];
    assert.deepEqual(rejected.map((r) => r.index), [1, 2, 3, 4]);
    assert.match(rejected[0].reason, /^id: .*; document_type: /);
    assert.match(err.message, /^Invalid document no type: .* \(and 3 more\)$/);
  }
});

Deno.test("contentHash() is the hex SHA-256 and documentView() hides the vector", () => {
  assert.equal(
    contentHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const v = documentView({
    id: "a",
    content: "c",
    document_type: "note",
    metadata: {},
    embedding: new Float32Array(2),
    created_at: 0,
    source: "s",
    language: "en",
    tags: [],
    content_hash: "h",
  });
  assert.equal(v.created_at, "1970-01-01T00:00:00.000Z");
  assert.ok(!("embedding" in v) && !("content_hash" in v));
});
