/**
 * The Orama full-text engine: BM25 over `content` with Orama's own filters on type, language,
 * tags and created_at. Its state is saved to a file (written then renamed) on close and restored
 * at open when it matches the stored segments; otherwise it is rebuilt from the documents.
 *
 * @module
 */
import { count, create, insert, insertMultiple, load, remove, save, search } from "@orama/orama";
import { getLogger } from "@logtape/logtape";
import type { KnowledgeDocument } from "./document.ts";
import type { DocFilter } from "./filter.ts";
import type { TextIndex } from "./text_index.ts";
import type { ScoredSlot } from "./bm25_index.ts";

const log = getLogger(["x0", "knowledge"]);

const SCHEMA = {
  id: "string",
  content: "string",
  document_type: "enum",
  language: "enum",
  tags: "enum[]",
  created_at: "number",
} as const;

const STATE_VERSION = 1;

/** The Orama engine plus its save hook. */
export interface OramaTextIndex extends TextIndex {
  /** Writes the Orama state for `stamp` (the store's last segment) to `path`. */
  save(path: string, stamp: string): Promise<void>;
  /** Whether the state was restored from disk (true) or rebuilt (false) at open. */
  readonly restored: boolean;
}

const toOrama = (d: KnowledgeDocument) => ({
  id: d.id,
  content: d.content,
  document_type: d.document_type,
  language: d.language,
  tags: d.tags,
  created_at: d.created_at,
});

/**
 * Opens the Orama engine: restores `path` when its stamp equals `stamp`, else indexes `docs`.
 *
 * @param path state file
 * @param docs every live document (used when rebuilding)
 * @param options the store stamp and how to map document ids to slots
 */
export async function oramaTextIndex(
  path: string,
  docs: readonly KnowledgeDocument[],
  options: { stamp: string; slotOf: (id: string) => number | undefined },
): Promise<OramaTextIndex> {
  const db = create({ schema: SCHEMA });
  let restored = false;
  try {
    const state = JSON.parse(await Deno.readTextFile(path));
    if (state.version === STATE_VERSION && state.stamp === options.stamp) {
      load(db, state.raw);
      restored = count(db) === docs.length;
      if (!restored) {
        log.warn("Orama state {path} disagrees with the segments; rebuilding", { path });
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      log.warn("Cannot restore Orama state {path}: {error}", { path, error: String(err) });
    }
  }
  const index = restored ? db : create({ schema: SCHEMA });
  if (!restored && docs.length) await insertMultiple(index, docs.map(toOrama), 1000);
  return {
    engine: "orama",
    restored,
    add: (_slot, doc) => void insert(index, toOrama(doc)),
    remove: (_slot, doc) => void remove(index, doc.id),
    async search(query, k, filter) {
      const res = await search(index, {
        term: query,
        properties: ["content"],
        limit: k,
        where: filter ? whereOf(filter) : undefined,
      });
      const out: ScoredSlot[] = [];
      for (const h of res.hits) {
        const slot = options.slotOf(h.id);
        if (slot !== undefined) out.push({ slot, score: h.score });
      }
      return out;
    },
    async save(target, stamp) {
      const body = JSON.stringify({ version: STATE_VERSION, stamp, raw: save(index) });
      const tmp = `${target}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      await Deno.writeTextFile(tmp, body);
      const f = await Deno.open(tmp, { read: true, write: true });
      try {
        await f.syncData();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, target);
    },
  };
}

// deno-lint-ignore no-explicit-any
function whereOf(f: DocFilter): any {
  // deno-lint-ignore no-explicit-any
  const where: Record<string, any> = {};
  if (f.type) where.document_type = { eq: f.type };
  if (f.language) where.language = { eq: f.language };
  if (f.tags?.length) where.tags = { containsAll: f.tags };
  if (f.since !== undefined && f.until !== undefined) {
    where.created_at = { between: [f.since, f.until] };
  } else if (f.since !== undefined) where.created_at = { gte: f.since };
  else if (f.until !== undefined) where.created_at = { lte: f.until };
  return where;
}
