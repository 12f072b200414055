import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import { KnowledgeBase } from "../../core/knowledge/knowledge_base.ts";
import { knowledgeRoutes } from "../../routes/knowledge.ts";
import { onError } from "../../routes/errors.ts";

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("knowledge routes ingest, search, read and delete documents", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0kb_routes_" });
  const kb = await KnowledgeBase.open(dir);
  const app = new OpenAPIHono();
  app.route("/", knowledgeRoutes(kb));
  app.onError(onError);
  try {
    await t.step("POST one document returns 201 with its id", async () => {
      const res = await app.request(
        "/knowledge/documents",
        json({
          id: "runbook:loss",
          content: "Packet loss on a mesh link: switch to the backup route",
          document_type: "runbook",
          tags: ["network"],
          metadata: { action: "switch_route" },
        }),
      );
      assert.equal(res.status, 201);
      assert.deepEqual(await res.json(), { ids: ["runbook:loss"], created: 1, replaced: 0 });
    });
    await t.step("POST a batch (array and {documents}) stores every document", async () => {
      let res = await app.request(
        "/knowledge/documents",
        json([
          {
            id: "inc-1",
            content: "cpu at 99 percent on r3, restarted babeld",
            document_type: "incident",
            tags: ["cpu"],
          },
          {
            id: "inc-2",
            content: "memory leak on r4, cleared cache",
            document_type: "incident",
            tags: ["memory"],
          },
        ]),
      );
      assert.equal(res.status, 201);
      res = await app.request(
        "/knowledge/documents",
        json({
          documents: [{ id: "n-1", content: "note about yggdrasil peers", document_type: "note" }],
        }),
      );
      assert.equal(res.status, 201);
      assert.equal(kb.size, 4);
    });
    await t.step(
      "a batch with one bad document is rejected with a reason and writes nothing",
      async () => {
        const res = await app.request(
          "/knowledge/documents",
          json([
            { id: "ok-1", content: "fine", document_type: "note" },
            { id: "bad", content: "", document_type: "note" },
          ]),
        );
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.error.code, "invalid_input");
        assert.match(body.error.message, /bad: content: must not be empty/);
        assert.equal(kb.size, 4);
        const wrongType = await app.request(
          "/knowledge/documents",
          json({ content: "x", document_type: "memo" }),
        );
        assert.equal(wrongType.status, 400);
        const malformed = await app.request("/knowledge/documents", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{",
        });
        assert.equal(malformed.status, 400);
        assert.equal(kb.size, 4);
      },
    );
    await t.step("GET /knowledge/search ranks and filters", async () => {
      let res = await app.request("/knowledge/search?q=processor+load+high+restart&k=2");
      assert.equal(res.status, 200);
      let body = await res.json();
      assert.equal(body.hits[0].id, "inc-1");
      assert.ok(body.hits.length <= 2);
      res = await app.request("/knowledge/search?q=loss+link+cpu+memory&type=incident&tags=memory");
      body = await res.json();
      assert.deepEqual(body.hits.map((h: { id: string }) => h.id), ["inc-2"]);
      assert.equal((await app.request("/knowledge/search?q=x&k=0")).status, 400);
      assert.equal((await app.request("/knowledge/search")).status, 400);
      assert.equal((await app.request("/knowledge/search?q=x&type=memo")).status, 400);
    });
    await t.step("GET and DELETE /knowledge/documents/:id", async () => {
      let res = await app.request("/knowledge/documents/runbook:loss");
      assert.equal(res.status, 200);
      const doc = await res.json();
      assert.equal(doc.document_type, "runbook");
      assert.deepEqual(doc.metadata, { action: "switch_route" });
      res = await app.request("/knowledge/documents/runbook:loss", { method: "DELETE" });
      assert.equal(res.status, 204);
      res = await app.request("/knowledge/documents/runbook:loss");
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
      assert.equal(
        (await app.request("/knowledge/documents/runbook:loss", { method: "DELETE" })).status,
        404,
      );
    });
  } finally {
    await kb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
