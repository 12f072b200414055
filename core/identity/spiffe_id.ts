/**
 * SPIFFE ID parsing and validation, exactly per the SPIFFE ID specification
 * (spiffe/spiffe standards/SPIFFE-ID.md): `spiffe://<trust-domain>/<path>`.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** The rule of the SPIFFE ID spec a string broke; one code per rule. */
export type SpiffeIdRule =
  | "empty"
  | "too_long"
  | "bad_scheme"
  | "missing_trust_domain"
  | "trust_domain_too_long"
  | "bad_trust_domain_char"
  | "userinfo"
  | "port"
  | "query"
  | "fragment"
  | "percent_encoding"
  | "empty_segment"
  | "dot_segment"
  | "trailing_slash"
  | "bad_path_char";

/** A SPIFFE ID that broke a rule of the spec; `rule` names which. */
export class SpiffeIdError extends ValidationError {
  /** The rule that failed. */
  readonly rule: SpiffeIdRule;
  /**
   * @param rule the failed rule
   * @param message sentence-case detail
   */
  constructor(rule: SpiffeIdRule, message: string) {
    super(message, { details: { rule } });
    this.rule = rule;
  }
}

/** A parsed, valid SPIFFE ID. */
export interface SpiffeId {
  /** The trust domain name, e.g. `example.org`. */
  readonly trustDomain: string;
  /** The path, empty or starting with `/`, e.g. `/node/a`. */
  readonly path: string;
  /** The full URI, `spiffe://<trustDomain><path>`. */
  readonly uri: string;
}

/** Maximum length of a SPIFFE ID in bytes (spec §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** Maximum length of a trust domain name in characters (spec §2.1). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const SCHEME = "spiffe://";
const TD_CHAR = /^[a-z0-9._-]$/;
const PATH_CHAR = /^[A-Za-z0-9._-]$/;

const fail = (rule: SpiffeIdRule, message: string): never => {
  throw new SpiffeIdError(rule, message);
};

/**
 * Validates a trust domain name: lowercase letters, digits, dots, dashes and underscores,
 * 1 to 255 characters.
 *
 * @param name the trust domain name (not a URI)
 */
export function parseTrustDomain(name: string): string {
  if (name.length === 0) fail("missing_trust_domain", "Invalid trust domain: it is empty");
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) {
    fail("trust_domain_too_long", `Invalid trust domain: longer than ${MAX_TRUST_DOMAIN_LENGTH}`);
  }
  for (const ch of name) {
    if (ch === "%") {
      fail("percent_encoding", "Invalid trust domain: percent-encoding is not allowed");
    }
    if (!TD_CHAR.test(ch)) {
      fail(
        "bad_trust_domain_char",
        `Invalid trust domain: character ${JSON.stringify(ch)} is not allowed` +
          " (lowercase letters, digits, dots, dashes, underscores)",
      );
    }
  }
  return name;
}

/**
 * Validates a SPIFFE ID path: empty, or `/`-separated segments of letters, digits, dots,
 * dashes and underscores; no empty, `.` or `..` segment, no trailing slash.
 *
 * @param path the path, empty or starting with `/`
 */
export function parseSpiffePath(path: string): string {
  if (path === "") return path;
  if (!path.startsWith("/")) fail("bad_path_char", "Invalid SPIFFE ID path: must start with /");
  const segments = path.slice(1).split("/");
  segments.forEach((seg, i) => {
    if (seg === "") {
      if (i === segments.length - 1) {
        fail("trailing_slash", "Invalid SPIFFE ID path: trailing slash is not allowed");
      }
      fail("empty_segment", "Invalid SPIFFE ID path: empty segment");
    }
    if (seg === "." || seg === "..") {
      fail("dot_segment", `Invalid SPIFFE ID path: dot segment ${JSON.stringify(seg)}`);
    }
    for (const ch of seg) {
      if (ch === "%") fail("percent_encoding", "Invalid SPIFFE ID path: percent-encoding");
      if (!PATH_CHAR.test(ch)) {
        fail(
          "bad_path_char",
          `Invalid SPIFFE ID path: character ${JSON.stringify(ch)} is not allowed` +
            " (letters, digits, dots, dashes, underscores)",
        );
      }
    }
  });
  return path;
}

/**
 * Validates one path segment (a node name, say): non-empty, not `.` or `..`, no `/`, only
 * letters, digits, dots, dashes and underscores.
 *
 * @param segment the candidate segment
 */
export function parsePathSegment(segment: string): string {
  if (segment === "") fail("empty_segment", "Invalid path segment: it is empty");
  if (segment.includes("/")) fail("bad_path_char", `Invalid path segment: ${segment} contains /`);
  parseSpiffePath(`/${segment}`);
  return segment;
}

/**
 * Parses and validates a SPIFFE ID; throws {@link SpiffeIdError} naming the broken rule.
 *
 * @param input the candidate URI
 * @example
 * parseSpiffeId("spiffe://mesh.test/node/a").trustDomain; // "mesh.test"
 */
export function parseSpiffeId(input: string): SpiffeId {
  if (input.length === 0) fail("empty", "Invalid SPIFFE ID: it is empty");
  if (new TextEncoder().encode(input).length > MAX_SPIFFE_ID_BYTES) {
    fail("too_long", `Invalid SPIFFE ID: longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  }
  if (!input.startsWith(SCHEME)) {
    fail("bad_scheme", "Invalid SPIFFE ID: scheme must be spiffe:// (lowercase)");
  }
  const rest = input.slice(SCHEME.length);
  // '?' and '#' are outside both character sets, so any occurrence is a query or fragment.
  const q = rest.indexOf("?");
  const h = rest.indexOf("#");
  if (q !== -1 && (h === -1 || q < h)) fail("query", "Invalid SPIFFE ID: query is not allowed");
  if (h !== -1) fail("fragment", "Invalid SPIFFE ID: fragment is not allowed");
  const slash = rest.indexOf("/");
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  if (authority.includes("@")) fail("userinfo", "Invalid SPIFFE ID: userinfo is not allowed");
  if (authority.includes(":")) fail("port", "Invalid SPIFFE ID: port is not allowed");
  if (authority.length === 0) {
    fail("missing_trust_domain", "Invalid SPIFFE ID: trust domain is missing");
  }
  const trustDomain = parseTrustDomain(authority);
  parseSpiffePath(path);
  return { trustDomain, path, uri: `${SCHEME}${trustDomain}${path}` };
}

/** Returns true when `input` is a valid SPIFFE ID. */
export function isSpiffeId(input: string): boolean {
  try {
    parseSpiffeId(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the SPIFFE ID of a trust domain member from validated parts.
 *
 * @param trustDomain the trust domain name
 * @param segments path segments, each validated
 */
export function spiffeIdFromParts(trustDomain: string, ...segments: string[]): SpiffeId {
  segments.forEach(parsePathSegment);
  const path = segments.length === 0 ? "" : "/" + segments.join("/");
  return parseSpiffeId(`${SCHEME}${trustDomain}${path}`);
}

/** Returns the trust domain's own ID, `spiffe://<td>`, as used for bundle keys. */
export function trustDomainId(trustDomain: string): string {
  return `${SCHEME}${parseTrustDomain(trustDomain)}`;
}
