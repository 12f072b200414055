/**
 * `kb`: operate the knowledge base on a data dir without a running agent: ingest runbooks or
 * documents, search, ask for a recommended action, show counts.
 *
 * @example
 * deno task cli kb ingest runbooks/
 * deno task cli kb search "packet loss on the link to r5" --k 3 --json
 *
 * @module
 */
import { Command, InvalidArgumentError } from "commander";
import { errorMessage } from "../core/errors.ts";
import { knowledgeConfigFromEnv, knowledgeOptions } from "../core/knowledge/config.ts";
import { DOCUMENT_TYPES, type DocumentType } from "../core/knowledge/document.ts";
import { readDocuments } from "../core/knowledge/files.ts";
import { KnowledgeBase } from "../core/knowledge/knowledge_base.ts";
import { recommendAction } from "../core/knowledge/recommend.ts";
import type { MetricSignature } from "../core/knowledge/signature.ts";

/** Default data dir (the agent's `data_dir` default). */
const DEFAULT_DATA_DIR = "./data";

/** Where the knowledge base lives inside a data dir. */
export function knowledgeDir(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "") || "/"}/knowledge`;
}

async function withKb<T>(dataDir: string, fn: (kb: KnowledgeBase) => Promise<T>): Promise<T> {
  const kb = await KnowledgeBase.open(
    knowledgeDir(dataDir),
    knowledgeOptions(knowledgeConfigFromEnv()),
  );
  try {
    return await fn(kb);
  } finally {
    await kb.close();
  }
}

function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      console.error(errorMessage(err));
      Deno.exitCode = 1;
    }
  };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new InvalidArgumentError("expected an integer in 1..1000");
  }
  return n;
};

const docType = (v: string) => {
  if (!(DOCUMENT_TYPES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`expected one of ${DOCUMENT_TYPES.join(", ")}`);
  }
  return v as DocumentType;
};

const signature = (v: string) => {
  const out: MetricSignature = {};
  for (const part of v.split(",").filter(Boolean)) {
    const [k, raw] = part.split("=");
    const n = Number(raw);
    if (!k || raw === undefined || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`expected name=number pairs, got ${part}`);
    }
    out[k.trim()] = n;
  }
  return out;
};

/** The `kb` command and its subcommands. */
export function kbCommand(): Command {
  const kb = new Command("kb").description(
    "Knowledge base: ingest runbooks and incidents, search, recommend",
  );
  kb.command("ingest")
    .description(
      "Ingest a directory of .md files (front matter) or a .jsonl of documents; all or nothing",
    )
    .argument("<path>", "directory of .md files, a .md file, or a .jsonl file")
    .option(
      "--data-dir <dir>",
      "agent data dir (the knowledge base is <dir>/knowledge)",
      DEFAULT_DATA_DIR,
    )
    .option("--json", "print the result as JSON")
    .action(action(async (path: string, opts: { dataDir: string; json?: boolean }) => {
      const docs = await readDocuments(path);
      const t0 = performance.now();
      const res = await withKb(opts.dataDir, (k) => k.add(docs));
      const ms = Math.round(performance.now() - t0);
      if (opts.json) {
        console.log(
          JSON.stringify({
            ingested: res.ids.length,
            created: res.created,
            replaced: res.replaced,
            ms,
          }),
        );
      } else {
        console.log(
          `Ingested ${res.ids.length} documents (${res.created} new, ${res.replaced} replaced) into ${
            knowledgeDir(opts.dataDir)
          } in ${ms} ms`,
        );
      }
    }));
  kb.command("search")
    .description("Hybrid search (BM25 + HNSW)")
    .argument("<text>", "query text")
    .option("--k <n>", "number of hits", positiveInt, 5)
    .option("--type <type>", `document type (${DOCUMENT_TYPES.join(", ")})`, docType)
    .option("--tags <list>", "comma-separated tags, all must match")
    .option("--mode <mode>", "hybrid, text or vector", "hybrid")
    .option("--data-dir <dir>", "agent data dir", DEFAULT_DATA_DIR)
    .option("--json", 'print {"hits":[...]} as JSON')
    .action(
      action(
        async (
          text: string,
          opts: {
            k: number;
            type?: DocumentType;
            tags?: string;
            mode: string;
            dataDir: string;
            json?: boolean;
          },
        ) => {
          if (!["hybrid", "text", "vector"].includes(opts.mode)) {
            throw new InvalidArgumentError(`Invalid --mode: ${opts.mode}`);
          }
          const hits = await withKb(opts.dataDir, (k) =>
            k.search({
              q: text,
              k: opts.k,
              type: opts.type,
              tags: opts.tags?.split(",").map((t) => t.trim()).filter(Boolean),
              mode: opts.mode as "hybrid",
            }));
          if (opts.json) {
            const out = hits.map((h) => ({
              id: h.id,
              score: h.score,
              document_type: h.document_type,
              tags: h.tags,
              metadata: h.metadata,
            }));
            console.log(JSON.stringify({ hits: out }));
            return;
          }
          if (hits.length === 0) console.log("No matching documents");
          for (const h of hits) {
            console.log(
              `${h.score.toFixed(4)}  ${h.document_type.padEnd(8)} ${h.id}  [${h.tags.join(",")}]`,
            );
          }
        },
      ),
    );
  kb.command("recommend")
    .description("Recommend an action for symptoms from similar past incidents (the planner hook)")
    .argument("<symptoms>", "symptom text")
    .option("--signature <pairs>", "metric signature, e.g. cpu_percent=97,load1=9", signature, {})
    .option("--data-dir <dir>", "agent data dir", DEFAULT_DATA_DIR)
    .option("--json", "print the result as JSON")
    .action(
      action(
        async (
          symptoms: string,
          opts: { signature: MetricSignature; dataDir: string; json?: boolean },
        ) => {
          const res = await withKb(
            opts.dataDir,
            (k) => recommendAction(k, symptoms, opts.signature),
          );
          if (opts.json) {
            console.log(JSON.stringify(res));
            return;
          }
          const r = res.recommendation;
          console.log(
            r
              ? `${r.action} (confidence ${r.confidence}, from ${r.source}: ${
                r.based_on.join(", ")
              })`
              : "No recommendation",
          );
        },
      ),
    );
  kb.command("stats")
    .description("Document counts and storage state")
    .option("--data-dir <dir>", "agent data dir", DEFAULT_DATA_DIR)
    .action(action(async (opts: { dataDir: string }) => {
      console.log(JSON.stringify(await withKb(opts.dataDir, (k) => Promise.resolve(k.stats()))));
    }));
  return kb;
}

if (import.meta.main) {
  await kbCommand().parseAsync(Deno.args, { from: "user" });
}
