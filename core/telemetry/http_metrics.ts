/**
 * HTTP request metrics, labelled by route pattern (never the raw path, to bound cardinality).
 *
 * @module
 */
import { Counter, Histogram, metric, registry } from "./metrics.ts";

/** Counts requests by method, route pattern and status. */
export const httpRequestsTotal = metric("http_requests_total", () =>
  new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  }));

/** Request durations by method and route pattern. */
export const httpRequestDuration = metric("http_request_duration_seconds", () =>
  new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method and route pattern",
    labelNames: ["method", "route"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }));
