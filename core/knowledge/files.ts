/**
 * Reading documents from disk for `kb ingest`: a directory of Markdown files (recursively, in
 * name order) or a JSON Lines file of documents.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { markdownDocument } from "./markdown.ts";

async function markdownFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await markdownFiles(p));
    else if (e.isFile && e.name.toLowerCase().endsWith(".md")) out.push(p);
  }
  return out.sort();
}

/**
 * Loads raw documents from `path` (not yet validated: the knowledge base does that for the
 * whole batch). Throws ValidationError for unreadable input.
 *
 * @param path a directory of .md files or a .jsonl file
 */
export async function readDocuments(path: string): Promise<unknown[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new ValidationError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  if (info.isDirectory) {
    const files = await markdownFiles(path);
    if (files.length === 0) throw new ValidationError(`No .md files in ${path}`);
    const docs: unknown[] = [];
    for (const f of files) {
      docs.push(markdownDocument(await Deno.readTextFile(f), f.slice(path.length + 1)));
    }
    return docs;
  }
  if (path.endsWith(".jsonl") || path.endsWith(".ndjson")) {
    const docs: unknown[] = [];
    const lines = (await Deno.readTextFile(path)).split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        docs.push(JSON.parse(line));
      } catch (err) {
        throw new ValidationError(
          `Invalid JSON in ${path} line ${i + 1}: ${(err as Error).message}`,
        );
      }
    });
    if (docs.length === 0) throw new ValidationError(`No documents in ${path}`);
    return docs;
  }
  if (path.toLowerCase().endsWith(".md")) {
    return [markdownDocument(await Deno.readTextFile(path), path.replace(/^.*\//, ""))];
  }
  throw new ValidationError(
    `Cannot ingest ${path}: expected a directory of .md files or a .jsonl file`,
  );
}
