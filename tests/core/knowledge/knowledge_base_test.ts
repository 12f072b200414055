import assert from "node:assert/strict";
import { KnowledgeBase } from "../../../core/knowledge/knowledge_base.ts";
import { NotFoundError, ValidationError } from "../../../core/errors.ts";
import { syntheticCorpus } from "../../../bench/kb_corpus.ts";

const DOCS = [
  {
    id: "inc-1",
    content: "High CPU on router r3: runaway babeld process at 98 percent, restarted the service",
    document_type: "incident",
    tags: ["cpu"],
    language: "en",
    created_at: "2026-01-01T00:00:00Z",
    metadata: { action: "restart_service" },
  },
  {
    id: "inc-2",
    content: "Memory exhaustion on r4, page cache grew until OOM; cleared cache",
    document_type: "incident",
    tags: ["memory"],
    created_at: "2026-02-01T00:00:00Z",
  },
  {
    id: "rb-1",
    content:
      "Runbook: packet loss on a mesh link. Switch traffic to the backup path and probe again",
    document_type: "runbook",
    tags: ["network", "loss"],
    created_at: "2026-03-01T00:00:00Z",
  },
  {
    id: "note-1",
    content: "Notiz: Verbindung zu r9 verliert Pakete bei Regen",
    document_type: "note",
    tags: ["network"],
    language: "de",
    created_at: "2026-04-01T00:00:00Z",
  },
];

async function listSegments(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/segments`)) out.push(e.name);
  return out.sort();
}

for (const engine of ["bm25", "orama"] as const) {
  Deno.test(`KnowledgeBase (${engine}) ingests, filters, deletes and survives a restart`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
    try {
      let kb = await KnowledgeBase.open(dir, { textEngine: engine });
      await t.step("ingest a batch and read a document back", async () => {
        const res = await kb.add(DOCS);
        assert.deepEqual(res, {
          ids: ["inc-1", "inc-2", "rb-1", "note-1"],
          created: 4,
          replaced: 0,
        });
        assert.equal(kb.get("rb-1")?.content, DOCS[2].content);
        assert.equal(kb.get("inc-1")?.created_at, "2026-01-01T00:00:00.000Z");
      });
      await t.step("search ranks the matching document first", async () => {
        const hits = await kb.search({ q: "router cpu usage very high", k: 3 });
        assert.equal(hits[0].id, "inc-1");
        assert.deepEqual(hits[0].metadata, { action: "restart_service" });
      });
      await t.step("filters by type, tags, language and time range", async () => {
        const q = "loss link packet verliert r9 cpu memory";
        const ids = async (f: object) =>
          (await kb.search({ q, k: 10, mode: "text", ...f })).map((h) => h.id).sort();
        assert.deepEqual(await ids({ type: "runbook" }), ["rb-1"]);
        assert.deepEqual(await ids({ tags: ["network"] }), ["note-1", "rb-1"]);
        assert.deepEqual(await ids({ tags: ["network", "loss"] }), ["rb-1"]);
        assert.deepEqual(await ids({ language: "de" }), ["note-1"]);
        assert.deepEqual(
          await ids({
            since: Date.parse("2026-01-15T00:00:00Z"),
            until: Date.parse("2026-03-15T00:00:00Z"),
          }),
          ["inc-2", "rb-1"],
        );
      });
      const queries = [
        "cpu process restarted",
        "backup path for lossy link",
        "cache memory",
        "Pakete Regen",
      ];
      const before: unknown[] = [];
      await t.step("delete is durable and reported when missing", async () => {
        await kb.delete("inc-2");
        assert.equal(kb.get("inc-2"), undefined);
        await assert.rejects(kb.delete("inc-2"), NotFoundError);
        for (const q of queries) before.push(await kb.search({ q, k: 5 }));
        assert.ok(!(before[2] as { id: string }[]).some((h) => h.id === "inc-2"));
      });
      await t.step("close and reopen from disk gives the same search results", async () => {
        await kb.close();
        kb = await KnowledgeBase.open(dir, { textEngine: engine });
        assert.equal(kb.size, 3);
        assert.equal(kb.stats().text_state, engine === "orama" ? "restored" : "built");
        const after = [];
        for (const q of queries) after.push(await kb.search({ q, k: 5 }));
        assert.deepEqual(after, before);
      });
      await kb.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("KnowledgeBase.add() rejects a batch with one bad document and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    const kb = await KnowledgeBase.open(dir);
    await kb.add([DOCS[0]]);
    const segs = await listSegments(dir);
    const bad = [
      [{ ...DOCS[1] }, { id: "x", content: "", document_type: "note" }],
      [{ ...DOCS[1] }, { id: "y", content: "ok", document_type: "memo" }],
      [{ ...DOCS[1] }, { id: "z", content: "ok", document_type: "note", embedding: [1, 2] }],
      [{ ...DOCS[1] }, { id: "inc-2", content: "dup", document_type: "note" }],
      [{ ...DOCS[1] }, { id: "w", content: "ok", document_type: "note", tags: ["Bad Tag"] }],
      [{ ...DOCS[1] }, { id: "v", content: "ok", document_type: "note", extra: 1 }],
      [{ ...DOCS[1] }, "not an object"],
    ];
    for (const batch of bad) {
      await assert.rejects(kb.add(batch), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /^Invalid document /);
        assert.equal((err.details?.rejected as unknown[]).length, 1);
        return true;
      });
      assert.equal(kb.size, 1);
      assert.equal(kb.get("inc-2"), undefined);
      assert.deepEqual(await listSegments(dir), segs);
    }
    await assert.rejects(kb.add([]), ValidationError);
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase replaces a document with the same id and compacts its segments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    let kb = await KnowledgeBase.open(dir, { compactAfterSegments: 4 });
    const docs = syntheticCorpus(40);
    for (let i = 0; i < 10; i++) await kb.add(docs.slice(i * 4, i * 4 + 4));
    const res = await kb.add([{ ...docs[0], content: "replacement text about yggdrasil peering" }]);
    assert.deepEqual(res, { ids: ["syn-0"], created: 0, replaced: 1 });
    assert.ok((await listSegments(dir)).length < 4);
    const hits = await kb.search({ q: "yggdrasil peering", k: 1 });
    assert.equal(hits[0].id, "syn-0");
    await kb.close();
    kb = await KnowledgeBase.open(dir, { compactAfterSegments: 4 });
    assert.equal(kb.size, 40);
    assert.equal(kb.get("syn-0")?.content, "replacement text about yggdrasil peering");
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase ignores a segment left half-written by a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    let kb = await KnowledgeBase.open(dir);
    await kb.add(DOCS.slice(0, 2));
    await kb.close();
    const segs = await listSegments(dir);
    assert.equal(segs.length, 1);
    // A crash between write and rename leaves only a .tmp file behind.
    await Deno.writeFile(
      `${dir}/segments/seg-000000000099-0badf00d.kbs.1234.tmp`,
      new Uint8Array([1, 2, 3]),
    );
    kb = await KnowledgeBase.open(dir);
    assert.equal(kb.size, 2);
    assert.deepEqual(await listSegments(dir), segs);
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase.search() validates k and q, applies the vector threshold and signature re-ranking", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    const kb = await KnowledgeBase.open(dir);
    await kb.add([
      {
        id: "a",
        content: "link loss to neighbour r2",
        document_type: "incident",
        metadata: { metric_signature: { packet_loss_percent: 40 } },
      },
      {
        id: "b",
        content: "link loss to neighbour r7",
        document_type: "incident",
        metadata: { metric_signature: { packet_loss_percent: 6 } },
      },
    ]);
    await assert.rejects(kb.search({ q: "x", k: 0 }), ValidationError);
    await assert.rejects(kb.search({ q: "  " }), ValidationError);
    // Unrelated words: the vector leg finds neighbours, but below 0.7 they are dropped.
    assert.deepEqual(await kb.search({ q: "certificate expired", k: 5 }), []);
    assert.equal(
      (await kb.search({ q: "certificate expired", k: 5, minSimilarity: -1 })).length,
      2,
    );
    const heavy = await kb.search({ q: "link loss", k: 2, signature: { packet_loss_percent: 45 } });
    assert.equal(heavy[0].id, "a");
    const light = await kb.search({ q: "link loss", k: 2, signature: { packet_loss_percent: 5 } });
    assert.equal(light[0].id, "b");
    assert.ok(light[0].signature_similarity! > light[1].signature_similarity!);
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase serves exact vector results while HNSW builds in the background", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    let kb = await KnowledgeBase.open(dir, { hnswMinVectors: 100 });
    const docs = syntheticCorpus(600);
    await kb.add(docs);
    await kb.close();
    kb = await KnowledgeBase.open(dir, { hnswMinVectors: 100 });
    assert.equal(kb.vectorIndex, "hnsw");
    assert.ok(kb.pendingVectors > 0, "reopen queues the stored vectors for HNSW");
    const q = docs[123].content;
    const early = await kb.search({ q, k: 5, mode: "vector", minSimilarity: -1 });
    assert.equal(early[0].id, "syn-123");
    await kb.whenIndexed();
    assert.equal(kb.pendingVectors, 0);
    const late = await kb.search({ q, k: 5, mode: "vector", minSimilarity: -1 });
    assert.deepEqual(late.map((h) => h.id), early.map((h) => h.id));
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase filtered vector search equals an exact scan of the matching documents", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    const kb = await KnowledgeBase.open(dir, { cache: false });
    const docs = syntheticCorpus(1500, 5);
    await kb.add(docs);
    await kb.whenIndexed();
    const { hashEmbed } = await import("../../../core/knowledge/hash_embedder.ts");
    for (let i = 0; i < 20; i++) {
      const q = docs[i * 7].content.split(" ").slice(0, 6).join(" ");
      const qv = hashEmbed(q);
      const want = docs.filter((d) => d.document_type === "incident" && d.tags!.includes("network"))
        .map((d) => {
          const v = kb.document(d.id!)!.embedding;
          return { id: d.id!, s: v.reduce((acc, x, j) => acc + x * qv[j], 0) };
        })
        .sort((a, b) => b.s - a.s).slice(0, 5);
      const got = await kb.search({
        q,
        k: 5,
        mode: "vector",
        minSimilarity: -1,
        type: "incident",
        tags: ["network"],
      });
      assert.deepEqual(got.map((h) => h.id), want.map((w) => w.id));
    }
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase scans a small base exactly without HNSW and switches to HNSW past hnswMinVectors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    const kb = await KnowledgeBase.open(dir, { cache: false, hnswMinVectors: 300 });
    const docs = syntheticCorpus(500, 3);
    await kb.add(docs.slice(0, 250));
    assert.equal(kb.vectorIndex, "exact");
    assert.equal(kb.pendingVectors, 0);
    await kb.whenIndexed(); // resolves at once: nothing to build
    const { hashEmbed } = await import("../../../core/knowledge/hash_embedder.ts");
    const exactTop = (live: typeof docs, q: string, k: number) => {
      const qv = hashEmbed(q);
      return live.map((d) => {
        const v = hashEmbed(d.content);
        let s = 0;
        for (let i = 0; i < v.length; i++) s += v[i] * qv[i];
        return { id: d.id!, s };
      }).sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1)).slice(0, k).map((h) => h.id);
    };
    for (let i = 0; i < 10; i++) {
      const q = docs[i * 11].content.split(" ").slice(0, 5).join(" ");
      const got = await kb.search({ q, k: 5, mode: "vector", minSimilarity: -1 });
      assert.deepEqual(got.map((h) => h.id), exactTop(docs.slice(0, 250), q, 5), q);
    }
    // Replacing documents many times does not grow the scan list without bound.
    for (let round = 0; round < 4; round++) await kb.add(docs.slice(0, 100));
    assert.equal(kb.vectorIndex, "exact");
    await kb.add(docs.slice(250));
    assert.equal(kb.vectorIndex, "hnsw");
    await kb.whenIndexed();
    assert.equal(kb.pendingVectors, 0);
    for (let i = 0; i < 10; i++) {
      const hit = await kb.search({
        q: docs[i * 37].content,
        k: 1,
        mode: "vector",
        minSimilarity: -1,
      });
      assert.equal(hit[0].id, docs[i * 37].id);
    }
    await kb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnowledgeBase holds its directory for one process: a second opener fails at once and nothing is written", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_" });
  try {
    const kb = await KnowledgeBase.open(dir, { cache: false });
    await kb.add([{ id: "held", content: "link loss on r1", document_type: "runbook" }]);
    const segments = async () => {
      const names: string[] = [];
      for await (const e of Deno.readDir(`${dir}/segments`)) names.push(e.name);
      return names.sort();
    };
    const before = await segments();
    await t.step("in the same process", async () => {
      await assert.rejects(
        () => KnowledgeBase.open(dir),
        (err: Error) =>
          err.name === "UnavailableError" && /open in another process/.test(err.message),
      );
    });
    await t.step("from another process (as the kb CLI would be)", async () => {
      const code = `import { KnowledgeBase } from ${
        JSON.stringify(
          new URL("../../../core/knowledge/knowledge_base.ts", import.meta.url).href,
        )
      };
try { await KnowledgeBase.open(${JSON.stringify(dir)}); console.log("opened"); }
catch (e) { console.log(e.name + ": " + e.message); }`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", code],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.match(text, /UnavailableError: Knowledge base .* is open in another process/);
    });
    assert.deepEqual(await segments(), before, "the refused openers wrote nothing");
    await kb.close();
    await t.step("free again after close", async () => {
      const again = await KnowledgeBase.open(dir, { cache: false });
      assert.equal(again.size, 1);
      await again.close();
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
