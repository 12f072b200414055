/**
 * The knowledge document model and its validation. Every document entering the knowledge base
 * (API, CLI, MAPE-K incidents) is parsed here once; a batch is accepted whole or not at all.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ValidationError } from "../errors.ts";

/** Kinds of document the knowledge base holds. */
export const DOCUMENT_TYPES = ["incident", "runbook", "note"] as const;

/** One of {@link DOCUMENT_TYPES}. */
export type DocumentType = typeof DOCUMENT_TYPES[number];

/** Largest accepted content, in characters. */
export const MAX_CONTENT_CHARS = 200_000;

/** Largest accepted batch. */
export const MAX_BATCH = 100_000;

const idSchema = z.string().min(1).max(200).regex(
  /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
  "must start with a letter or digit and contain only letters, digits and . _ : @ -",
);

const tagSchema = z.string().min(1).max(64).regex(
  /^[a-z0-9][a-z0-9._-]*$/,
  "must be lower-case letters, digits and . _ -",
);

/** Schema of a document as clients submit it (JSON). */
export const DocumentInputSchema = z.object({
  id: idSchema.optional(),
  content: z.string().max(MAX_CONTENT_CHARS).refine((s) => s.trim().length > 0, {
    message: "must not be empty",
  }),
  document_type: z.enum(DOCUMENT_TYPES),
  metadata: z.record(z.string(), z.unknown()).default({}),
  embedding: z.array(z.number().finite()).min(1).optional(),
  created_at: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
    .optional(),
  source: z.string().min(1).max(500).default("api"),
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag like en")
    .default("en"),
  tags: z.array(tagSchema).max(32).default([]),
}).strict();

/** A document as submitted (before defaults are applied). */
export type DocumentInput = z.input<typeof DocumentInputSchema>;

/** A validated, stored document. */
export interface KnowledgeDocument {
  id: string;
  content: string;
  document_type: DocumentType;
  metadata: Record<string, unknown>;
  /** Unit-length vector of the knowledge base's dimension. */
  embedding: Float32Array;
  /** Milliseconds since the epoch. */
  created_at: number;
  source: string;
  language: string;
  tags: string[];
  /** SHA-256 of the content (hex); the embedding cache key. */
  content_hash: string;
}

/** A validated document that has not been embedded yet. */
export type ParsedDocument = Omit<KnowledgeDocument, "embedding" | "content_hash"> & {
  embedding?: Float32Array;
};

/** The JSON shape of a stored document returned by the API. */
export interface DocumentView {
  id: string;
  content: string;
  document_type: DocumentType;
  metadata: Record<string, unknown>;
  created_at: string;
  source: string;
  language: string;
  tags: string[];
}

/** One rejected document: its position in the batch, its id if any, and why. */
export interface Rejection {
  index: number;
  id?: string;
  reason: string;
}

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join(".") : "document"}: ${i.message}`)
    .join("; ");
}

/**
 * Validates a batch; returns the parsed documents or throws a ValidationError listing every
 * rejected document (with `details.rejected`), so callers write all or nothing.
 *
 * @param inputs raw documents (unknown JSON)
 * @param options vector dimension for supplied embeddings; clock for defaults
 */
export function parseDocuments(
  inputs: readonly unknown[],
  options: { dimensions: number; now?: () => number },
): ParsedDocument[] {
  if (inputs.length === 0) throw new ValidationError("Invalid batch: no documents");
  if (inputs.length > MAX_BATCH) {
    throw new ValidationError(`Invalid batch: ${inputs.length} documents, at most ${MAX_BATCH}`);
  }
  const now = options.now ?? Date.now;
  const rejected: Rejection[] = [];
  const out: ParsedDocument[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((raw, index) => {
    const res = DocumentInputSchema.safeParse(raw);
    const rawId = typeof (raw as { id?: unknown })?.id === "string"
      ? (raw as { id: string }).id
      : undefined;
    if (!res.success) {
      rejected.push({ index, id: rawId, reason: describe(res.error.issues) });
      return;
    }
    const d = res.data;
    if (d.embedding && d.embedding.length !== options.dimensions) {
      rejected.push({
        index,
        id: rawId,
        reason: `embedding: has ${d.embedding.length} dimensions, expected ${options.dimensions}`,
      });
      return;
    }
    const id = d.id ?? crypto.randomUUID();
    const prev = seen.get(id);
    if (prev !== undefined) {
      rejected.push({ index, id, reason: `id: duplicate of document ${prev} in this batch` });
      return;
    }
    seen.set(id, index);
    const createdAt = d.created_at === undefined
      ? now()
      : typeof d.created_at === "number"
      ? d.created_at
      : Date.parse(d.created_at);
    out.push({
      id,
      content: d.content,
      document_type: d.document_type,
      metadata: d.metadata,
      embedding: d.embedding ? new Float32Array(d.embedding) : undefined,
      created_at: createdAt,
      source: d.source,
      language: d.language,
      tags: [...new Set(d.tags)],
    });
  });
  if (rejected.length > 0) {
    const first = rejected[0];
    const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : "";
    throw new ValidationError(
      `Invalid document ${first.id ?? `#${first.index}`}: ${first.reason}${more}`,
      { details: { rejected } },
    );
  }
  return out;
}

/**
 * The API view of a stored document (no vector, ISO timestamps).
 *
 * @param doc a stored document
 */
export function documentView(doc: KnowledgeDocument): DocumentView {
  return {
    id: doc.id,
    content: doc.content,
    document_type: doc.document_type,
    metadata: doc.metadata,
    created_at: new Date(doc.created_at).toISOString(),
    source: doc.source,
    language: doc.language,
    tags: doc.tags,
  };
}

/**
 * Hex SHA-256 of a text: the content hash the embedding cache is keyed by.
 *
 * @param text the content
 */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
