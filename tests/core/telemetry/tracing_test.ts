import assert from "node:assert/strict";
import { startAgentProcess } from "../../helpers/agent_process.ts";

interface OtlpSpan {
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string } }[];
}

Deno.test("with OTEL_DENO=true the agent exports request and task spans over OTLP", async () => {
  const spans: OtlpSpan[] = [];
  const ac = new AbortController();
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const body = await req.json().catch(() => null);
      if (new URL(req.url).pathname === "/v1/traces" && body) {
        for (const rs of body.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
        }
      }
      return Response.json({});
    },
  );
  const agent = await startAgentProcess([], {
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "x0-test",
    },
  });
  try {
    await (await fetch(`${agent.url}/health`)).body?.cancel();
    await (await fetch(`${agent.url}/mesh/status`)).body?.cancel();
  } finally {
    await agent.stop(); // a clean exit flushes the exporter
    await Deno.remove(agent.dataDir, { recursive: true });
  }
  const deadline = Date.now() + 5000;
  while (!spans.some((s) => s.name === "GET /mesh/status") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  ac.abort();
  await receiver.finished;
  const names = spans.map((s) => s.name);
  assert.ok(names.includes("GET /health"), `spans: ${names.join(", ")}`);
  assert.ok(names.includes("GET /mesh/status"));
  assert.ok(names.includes("task health"), "scheduled task runs are traced");
  const health = spans.find((s) => s.name === "GET /health")!;
  const route = health.attributes?.find((a) => a.key === "http.route")?.value.stringValue;
  assert.equal(route, "/health");
});
