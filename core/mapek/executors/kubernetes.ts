/**
 * Kubernetes executor: deletes a pod through the API server with the in-cluster service-account
 * token, so its controller (Deployment, StatefulSet) starts a fresh one. The API address comes
 * from config or KUBERNETES_SERVICE_HOST/PORT; the namespace from config or the service
 * account's namespace file; the API server's CA from the service account's ca.crt when present.
 *
 * @module
 */
import { ConfigError, errorMessage, UnavailableError, ValidationError } from "../../errors.ts";

/** Where and how to reach the API server. */
export interface KubernetesOptions {
  apiUrl?: string | null;
  namespace?: string | null;
  tokenPath?: string;
  caPath?: string;
  /** Request timeout. */
  timeoutMs?: number;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function readOptional(path: string): string | null {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return null;
  }
}

/** Resolves the API URL and namespace; throws ConfigError when not in a cluster and not configured. */
export function resolveCluster(options: KubernetesOptions): { apiUrl: string; namespace: string } {
  let apiUrl = options.apiUrl ?? null;
  if (!apiUrl) {
    const env = (name: string) => {
      try {
        return Deno.env.get(name);
      } catch {
        return undefined; // no permission for the variable: treated as unset
      }
    };
    const host = env("KUBERNETES_SERVICE_HOST");
    const port = env("KUBERNETES_SERVICE_PORT") ?? "443";
    if (host) apiUrl = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  if (!apiUrl) {
    throw new ConfigError(
      "Kubernetes restart needs mapek.kubernetes_api or KUBERNETES_SERVICE_HOST: not in a cluster",
    );
  }
  const namespace = options.namespace ?? readOptional(`${SA_DIR}/namespace`);
  if (!namespace) throw new ConfigError("Kubernetes restart needs mapek.kubernetes_namespace");
  return { apiUrl: apiUrl.replace(/\/+$/, ""), namespace };
}

/**
 * Deletes one pod.
 *
 * @param pod the pod's name
 * @param options API server, namespace, token and CA files
 * @returns a one-line description of what was done
 */
export async function deletePod(pod: string, options: KubernetesOptions = {}): Promise<string> {
  if (!NAME.test(pod)) throw new ValidationError(`Invalid pod name: ${pod}`);
  const { apiUrl, namespace } = resolveCluster(options);
  if (!NAME.test(namespace)) throw new ValidationError(`Invalid namespace: ${namespace}`);
  const tokenPath = options.tokenPath ?? `${SA_DIR}/token`;
  const token = readOptional(tokenPath);
  if (!token) throw new UnavailableError(`Cannot read the service-account token: ${tokenPath}`);
  const ca = readOptional(options.caPath ?? `${SA_DIR}/ca.crt`);
  const client = ca && apiUrl.startsWith("https:")
    ? Deno.createHttpClient({ caCerts: [ca] })
    : undefined;
  const url = `${apiUrl}/api/v1/namespaces/${namespace}/pods/${pod}`;
  try {
    const res = await fetch(url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      ...(client ? { client } : {}),
    });
    const body = await res.text();
    if (res.status === 200 || res.status === 202) return `deleted pod ${namespace}/${pod}`;
    let message = body.slice(0, 200);
    try {
      message = JSON.parse(body).message ?? message;
    } catch { /* not JSON */ }
    throw new UnavailableError(
      `Kubernetes API refused to delete pod ${namespace}/${pod}: ${res.status} ${message}`,
    );
  } catch (err) {
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(
      `Cannot reach the Kubernetes API at ${apiUrl}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    client?.close();
  }
}
