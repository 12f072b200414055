/**
 * What the HTTP layer needs from the running agent. Route modules take these, never globals,
 * so tests can assemble an app around real subsystems.
 *
 * @module
 */
import type { HealthRegistry } from "../core/health/health.ts";
import type { MeshView } from "../core/mesh/view.ts";

/** The agent subsystems the routes read. */
export interface AppDeps {
  nodeId: string;
  version: string;
  /** performance.now() at agent start, for uptime. */
  startedAt: number;
  health: HealthRegistry;
  mesh: MeshView;
}
