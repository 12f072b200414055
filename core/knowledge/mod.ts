/**
 * The knowledge base: documents, embeddings, hybrid search and the planner hook.
 *
 * @module
 */
export * from "./document.ts";
export * from "./embedder.ts";
export * from "./hash_embedder.ts";
export * from "./http_embedder.ts";
export * from "./fusion.ts";
export * from "./signature.ts";
export * from "./filter.ts";
export * from "./knowledge_base.ts";
export * from "./recommend.ts";
export * from "./incident.ts";
export * from "./markdown.ts";
export * from "./files.ts";
export type { TextEngine } from "./text_index.ts";
export type { HnswParams } from "./hnsw_index.ts";
export * from "./config.ts";
