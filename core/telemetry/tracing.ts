/**
 * Tracing through the OpenTelemetry API. Deno's built-in OTel exports the spans when the
 * process runs with `OTEL_DENO=true`; without it the API is a no-op. We never register a
 * provider ourselves (DESIGN.md).
 *
 * @module
 */
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { VERSION } from "../version.ts";

/** The agent's tracer. */
export const tracer = trace.getTracer("x0tta6bl4", VERSION);

/**
 * Runs `fn` inside an active span named `name`, recording an exception and error status when
 * it throws; child spans started inside nest under it.
 *
 * @example
 * await withSpan("mapek.cycle", async () => await withSpan("mapek.monitor", monitor));
 */
export function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T> | T,
  options: { attributes?: Record<string, string | number | boolean> } = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: options.attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}
