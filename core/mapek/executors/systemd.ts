/**
 * systemd executor: restarts a unit with `systemctl restart`. Used for services whose restart
 * method is "systemd", on hosts where systemd runs.
 *
 * @module
 */
import { errorMessage, UnavailableError, ValidationError } from "../../errors.ts";

const UNIT = /^[A-Za-z0-9:_.@\\-]{1,256}$/;

/** True when systemd is the running init (it creates /run/systemd/system). */
export function systemdRunning(): boolean {
  try {
    return Deno.statSync("/run/systemd/system").isDirectory;
  } catch {
    return false;
  }
}

/**
 * Restarts a unit and waits for systemctl to return.
 *
 * @param unit the unit name, e.g. "nginx.service"
 * @param options the systemctl binary (default "systemctl")
 * @returns a one-line description of what was done
 */
export async function restartUnit(
  unit: string,
  options: { systemctl?: string } = {},
): Promise<string> {
  if (!UNIT.test(unit)) throw new ValidationError(`Invalid systemd unit name: ${unit}`);
  const systemctl = options.systemctl ?? "systemctl";
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(systemctl, {
      args: ["restart", "--", unit],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new UnavailableError(`Cannot run ${systemctl}: ${errorMessage(err)}`, { cause: err });
  }
  if (out.code !== 0) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ||
      `exit code ${out.code}`;
    throw new UnavailableError(`systemctl restart ${unit} failed: ${msg}`);
  }
  return `systemctl restart ${unit}`;
}
