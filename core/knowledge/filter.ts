/**
 * Search filters (type, tags, language, time range) and their evaluation on a document.
 *
 * @module
 */
import type { DocumentType, KnowledgeDocument } from "./document.ts";

/** Restrictions a search applies before ranking. */
export interface DocFilter {
  type?: DocumentType;
  /** Every listed tag must be present. */
  tags?: string[];
  language?: string;
  /** created_at >= since (ms since the epoch). */
  since?: number;
  /** created_at <= until (ms since the epoch). */
  until?: number;
}

/**
 * True when the filter restricts anything.
 *
 * @param f the filter
 */
export function isActive(f: DocFilter | undefined): f is DocFilter {
  return !!f && (f.type !== undefined || (f.tags?.length ?? 0) > 0 || f.language !== undefined ||
    f.since !== undefined || f.until !== undefined);
}

/**
 * True when `doc` passes `f`.
 *
 * @param doc a document
 * @param f the filter
 */
export function matches(doc: KnowledgeDocument, f: DocFilter): boolean {
  if (f.type !== undefined && doc.document_type !== f.type) return false;
  if (f.language !== undefined && doc.language !== f.language) return false;
  if (f.since !== undefined && doc.created_at < f.since) return false;
  if (f.until !== undefined && doc.created_at > f.until) return false;
  if (f.tags) { for (const t of f.tags) if (!doc.tags.includes(t)) return false; }
  return true;
}
