/**
 * Markdown files with front matter as knowledge documents (the runbook corpus). The front
 * matter is a small YAML subset: `key: value` lines, values being strings (optionally quoted),
 * numbers, booleans or inline lists `[a, b]`. Document fields (id, document_type, tags,
 * language, source, created_at) are taken from it; every other key goes to metadata.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

const DOC_FIELDS = new Set(["id", "document_type", "tags", "language", "source", "created_at"]);

function scalar(raw: string): unknown {
  const v = raw.trim();
  if (/^".*"$|^'.*'$/.test(v)) return v.slice(1, -1);
  if (v === "true" || v === "false") return v === "true";
  if (v !== "" && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v.startsWith("[") && v.endsWith("]")) {
    const inner = v.slice(1, -1).trim();
    return inner === "" ? [] : inner.split(",").map((x) => scalar(x));
  }
  return v;
}

/**
 * Parses front matter and body; throws ValidationError naming the file and line when the front
 * matter is malformed.
 *
 * @param text file contents
 * @param name file name for messages
 */
export function parseFrontMatter(
  text: string,
  name: string,
): { data: Record<string, unknown>; body: string } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines[0]?.trim() !== "---") return { data: {}, body: text.trim() };
  const end = lines.indexOf("---", 1);
  if (end < 0) throw new ValidationError(`Invalid front matter in ${name}: no closing ---`);
  const data: Record<string, unknown> = {};
  for (let i = 1; i < end; i++) {
    const line = lines[i];
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*):(.*)$/.exec(line);
    if (!m) {
      throw new ValidationError(
        `Invalid front matter in ${name}: line ${i + 1}: expected key: value`,
      );
    }
    data[m[1]] = scalar(m[2]);
  }
  return { data, body: lines.slice(end + 1).join("\n").trim() };
}

/**
 * Turns a Markdown file into a document input (type runbook unless the front matter says
 * otherwise; id defaults to `runbook:<file stem>`).
 *
 * @param text file contents
 * @param name file name (its stem is the default id)
 */
export function markdownDocument(text: string, name: string): Record<string, unknown> {
  const { data, body } = parseFrontMatter(text, name);
  const stem = name.replace(/^.*\//, "").replace(/\.md$/i, "");
  const type = typeof data.document_type === "string" ? data.document_type : "runbook";
  const doc: Record<string, unknown> = {
    id: `${type}:${stem}`,
    document_type: type,
    source: name,
    content: body,
  };
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (DOC_FIELDS.has(k)) doc[k] = v;
    else metadata[k] = v;
  }
  if (typeof metadata.title === "string" && body !== "") {
    doc.content = `${metadata.title}\n\n${body}`;
  }
  doc.metadata = metadata;
  return doc;
}
