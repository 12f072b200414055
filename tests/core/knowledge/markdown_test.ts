import assert from "node:assert/strict";
import { markdownDocument, parseFrontMatter } from "../../../core/knowledge/markdown.ts";
import { readDocuments } from "../../../core/knowledge/files.ts";
import { parseDocuments } from "../../../core/knowledge/document.ts";
import { ValidationError } from "../../../core/errors.ts";

Deno.test("parseFrontMatter() reads strings, numbers, booleans and inline lists", () => {
  const { data, body } = parseFrontMatter(
    '---\ntitle: "High CPU"\nseverity: warning\nweight: 2.5\nauto: true\ntags: [cpu, host]\n---\n\nBody text\n',
    "x.md",
  );
  assert.deepEqual(data, {
    title: "High CPU",
    severity: "warning",
    weight: 2.5,
    auto: true,
    tags: ["cpu", "host"],
  });
  assert.equal(body, "Body text");
  assert.throws(() => parseFrontMatter("---\ntitle: x\n", "y.md"), ValidationError);
  assert.throws(() => parseFrontMatter("---\n- nope\n---\n", "z.md"), /z\.md: line 2/);
});

Deno.test("markdownDocument() maps front matter to document fields and metadata", () => {
  const d = markdownDocument(
    "---\ntitle: T\naction: switch_route\ntags: [network]\n---\nSteps",
    "dir/link_down.md",
  );
  assert.deepEqual(d, {
    id: "runbook:link_down",
    document_type: "runbook",
    source: "dir/link_down.md",
    content: "T\n\nSteps",
    tags: ["network"],
    metadata: { title: "T", action: "switch_route" },
  });
});

Deno.test("the runbook corpus is valid and covers every fault kind the MAPE-K loop handles", async () => {
  const root = new URL("../../../runbooks", import.meta.url).pathname;
  const docs = parseDocuments(await readDocuments(root), { dimensions: 384 });
  const kinds = new Map(docs.map((d) => [d.metadata.fault_type, d.metadata.action]));
  for (
    const kind of [
      "high_cpu",
      "high_memory",
      "service_down",
      "network_loss",
      "link_down",
      "router_failure",
    ]
  ) {
    assert.ok(kinds.has(kind), `no runbook for ${kind}`);
  }
  for (const d of docs) {
    assert.equal(d.document_type, "runbook");
    assert.equal(typeof d.metadata.action, "string", `${d.id} has no action`);
    assert.equal(typeof d.metadata.title, "string", `${d.id} has no title`);
    assert.ok(d.content.length > 300, `${d.id} is too short to be a runbook`);
  }
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length);
});
