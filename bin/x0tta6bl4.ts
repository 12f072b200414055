/**
 * `x0tta6bl4`: the full command-line interface (same as main.ts), for `deno install`.
 *
 * @module
 */
import { buildProgram } from "../main.ts";

await buildProgram().parseAsync(Deno.args, { from: "user" });
