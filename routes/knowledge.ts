/**
 * The knowledge resource: ingest documents (one or a batch), hybrid search, read and delete.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { NotFoundError } from "../core/errors.ts";
import { DOCUMENT_TYPES } from "../core/knowledge/document.ts";
import type { KnowledgeBase } from "../core/knowledge/knowledge_base.ts";
import { ErrorBody, validationHook } from "./errors.ts";

const DocumentIn = z.object({
  id: z.string().optional().openapi({ example: "incident:2026-11-27-r3-cpu" }),
  content: z.string().openapi({ example: "High CPU on r3: babeld at 99 %, restarted" }),
  document_type: z.enum(DOCUMENT_TYPES),
  metadata: z.record(z.string(), z.unknown()).optional(),
  embedding: z.array(z.number()).optional(),
  created_at: z.union([z.string(), z.number()]).optional(),
  source: z.string().optional(),
  language: z.string().optional().openapi({ example: "en" }),
  tags: z.array(z.string()).optional(),
}).openapi("KnowledgeDocumentInput");

const DocumentOut = z.object({
  id: z.string(),
  content: z.string(),
  document_type: z.enum(DOCUMENT_TYPES),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  source: z.string(),
  language: z.string(),
  tags: z.array(z.string()),
}).openapi("KnowledgeDocument");

const IngestOut = z.object({
  ids: z.array(z.string()),
  created: z.number().int(),
  replaced: z.number().int(),
}).openapi("KnowledgeIngestResult");

const Hit = z.object({
  id: z.string(),
  score: z.number(),
  document_type: z.enum(DOCUMENT_TYPES),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  language: z.string(),
  source: z.string(),
  created_at: z.string(),
  similarity: z.number().optional(),
  text_score: z.number().optional(),
}).openapi("KnowledgeHit");

const errors = {
  400: { description: "Invalid input", content: { "application/json": { schema: ErrorBody } } },
};

const ingestRoute = createRoute({
  method: "post",
  path: "/knowledge/documents",
  summary: "Add documents (one, an array, or {documents: [...]}); all or nothing",
  tags: ["knowledge"],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.union([
            DocumentIn,
            z.array(DocumentIn),
            z.object({ documents: z.array(DocumentIn) }),
          ]),
        },
      },
    },
  },
  responses: {
    201: { description: "Stored", content: { "application/json": { schema: IngestOut } } },
    ...errors,
  },
});

const searchRoute = createRoute({
  method: "get",
  path: "/knowledge/search",
  summary: "Hybrid search (BM25 + HNSW) with filters",
  tags: ["knowledge"],
  request: {
    query: z.object({
      q: z.string().min(1).openapi({ example: "packet loss on link to r5" }),
      k: z.coerce.number().int().min(1).max(100).default(5),
      type: z.enum(DOCUMENT_TYPES).optional(),
      tags: z.string().optional().openapi({ description: "Comma-separated; all must match" }),
      language: z.string().optional(),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
      mode: z.enum(["hybrid", "text", "vector"]).default("hybrid"),
    }),
  },
  responses: {
    200: {
      description: "Hits, best first",
      content: { "application/json": { schema: z.object({ hits: z.array(Hit) }) } },
    },
    ...errors,
  },
});

const idParam = z.object({ id: z.string().min(1).openapi({ param: { name: "id", in: "path" } }) });

const getRoute = createRoute({
  method: "get",
  path: "/knowledge/documents/{id}",
  summary: "Read one document",
  tags: ["knowledge"],
  request: { params: idParam },
  responses: {
    200: { description: "The document", content: { "application/json": { schema: DocumentOut } } },
    404: {
      description: "No such document",
      content: { "application/json": { schema: ErrorBody } },
    },
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/knowledge/documents/{id}",
  summary: "Delete one document",
  tags: ["knowledge"],
  request: { params: idParam },
  responses: {
    204: { description: "Deleted" },
    404: {
      description: "No such document",
      content: { "application/json": { schema: ErrorBody } },
    },
  },
});

/**
 * Routes of the knowledge resource, bound to one knowledge base.
 *
 * @param kb the agent's knowledge base
 */
export function knowledgeRoutes(kb: KnowledgeBase): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(ingestRoute, async (c) => {
    const body = c.req.valid("json");
    const docs = Array.isArray(body) ? body : "documents" in body ? body.documents : [body];
    // The knowledge base validates again, strictly and for the whole batch, before writing.
    return c.json(await kb.add(docs), 201);
  });
  app.openapi(searchRoute, async (c) => {
    const q = c.req.valid("query");
    const hits = await kb.search({
      q: q.q,
      k: q.k,
      mode: q.mode,
      type: q.type,
      tags: q.tags ? q.tags.split(",").map((t) => t.trim()).filter(Boolean) : undefined,
      language: q.language,
      since: q.since ? Date.parse(q.since) : undefined,
      until: q.until ? Date.parse(q.until) : undefined,
    });
    return c.json({ hits }, 200);
  });
  app.openapi(getRoute, (c) => {
    const { id } = c.req.valid("param");
    const doc = kb.get(id);
    if (!doc) throw new NotFoundError(`Document not found: ${id}`);
    return c.json(doc, 200);
  });
  app.openapi(deleteRoute, async (c) => {
    await kb.delete(c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
