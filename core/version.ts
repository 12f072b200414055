/**
 * The agent's version, read from deno.json so there is one source of truth.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** Semantic version of this build of the agent. */
export const VERSION: string = denoJson.version;
