/**
 * `x0tta6bl4-health`: checks a running agent (exit 0 healthy, 1 degraded/unhealthy,
 * 2 unreachable); arguments are those of `x0tta6bl4 health`. Needs only --allow-net and
 * --allow-env=X0_URL, so it suits service-manager health probes.
 *
 * @module
 */
import { healthCommand } from "../cli/health.ts";

await healthCommand().parseAsync(Deno.args, { from: "user" });
