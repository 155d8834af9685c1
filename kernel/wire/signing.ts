/**
 * HMAC signing of Jupyter messages (the `signature` frame).
 *
 * The signature is the lowercase hex HMAC over the four serialised frames header, parent_header,
 * metadata and content, in that order. An empty key disables signing: the signature is "" and
 * every message verifies. Verification compares in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface Signer {
  /** Hex signature of the four JSON frames (header, parent_header, metadata, content). */
  sign(frames: readonly (Buffer | string)[]): string;
  /** True when `signature` is the right one for the frames (constant-time comparison). */
  verify(signature: Buffer | string, frames: readonly (Buffer | string)[]): boolean;
  /** False when the key is empty, i.e. messages are not signed. */
  readonly enabled: boolean;
}

/** Maps Jupyter's `signature_scheme` ("hmac-sha256") to a Node digest name ("sha256"). */
export function digestOfScheme(scheme: string): string {
  const m = /^hmac-([a-z0-9-]+)$/i.exec(scheme.trim());
  if (!m) throw new Error(`Unsupported signature_scheme ${JSON.stringify(scheme)}: expected "hmac-<digest>", e.g. "hmac-sha256".`);
  return m[1].toLowerCase().replace(/-/g, "");
}

export function createSigner(key: string | Buffer, scheme = "hmac-sha256"): Signer {
  const keyBuf = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  const digest = digestOfScheme(scheme);
  const enabled = keyBuf.length > 0;
  // Fail early (at startup) if Node does not know the digest.
  if (enabled) createHmac(digest, keyBuf);
  const sign = (frames: readonly (Buffer | string)[]): string => {
    if (!enabled) return "";
    const h = createHmac(digest, keyBuf);
    for (const f of frames) h.update(f);
    return h.digest("hex");
  };
  return {
    enabled,
    sign,
    verify(signature, frames) {
      if (!enabled) return true;
      const expected = Buffer.from(sign(frames), "latin1");
      const given = typeof signature === "string" ? Buffer.from(signature, "latin1") : signature;
      if (given.length !== expected.length) {
        // Compare anyway so the time does not depend on where the mismatch is.
        timingSafeEqual(expected, expected);
        return false;
      }
      return timingSafeEqual(given, expected);
    },
  };
}
