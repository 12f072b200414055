/**
 * `x0tta6bl4-server`: runs the agent; arguments are those of `x0tta6bl4 server`.
 *
 * @module
 */
import { buildProgram } from "../main.ts";

await buildProgram().parseAsync(["server", ...Deno.args], { from: "user" });
