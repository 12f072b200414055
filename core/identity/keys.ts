/**
 * Key pairs for the identity subsystem: ECDSA P-256 generation and PKCS#8 / SPKI import and
 * export, so keys can be stored as PEM and handed to node:tls.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { decodePem, encodePem, toBytes } from "./pem.ts";

/** The signing algorithm every key of ours uses: ECDSA over P-256. */
export const EC_P256: EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };

/** Generates an extractable ECDSA P-256 key pair. */
export function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** Exports a private key as PKCS#8 PEM (`PRIVATE KEY`), the form node:tls accepts. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return encodePem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", key));
}

/**
 * Imports a PKCS#8 ECDSA P-256 private key from PEM or DER and derives its public key.
 *
 * @param input PEM text or PKCS#8 DER
 */
export async function importKeyPair(input: string | Uint8Array): Promise<CryptoKeyPair> {
  const der = typeof input === "string" ? decodePem(input, "PRIVATE KEY")[0]?.der : toBytes(input);
  if (!der) throw new ValidationError("Invalid private key: no PRIVATE KEY PEM block");
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", der, EC_P256, true, ["sign"]);
  } catch (err) {
    throw new ValidationError("Invalid private key: not a PKCS#8 ECDSA P-256 key", { cause: err });
  }
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  const publicKey = await crypto.subtle.importKey("jwk", jwk, EC_P256, true, ["verify"]);
  return { privateKey, publicKey };
}
