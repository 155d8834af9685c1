/**
 * Jupyter messages and their zeromq multipart form:
 *
 *   [identity..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffer...]
 *
 * `encodeMessage` turns a message into frames; `decodeMessage` parses and verifies frames,
 * returning `null`-free results: either a message or a reason why the frames were rejected.
 */
import { randomUUID } from "node:crypto";
import type { Signer } from "./signing.js";

export const DELIMITER = "<IDS|MSG>";
export const PROTOCOL_VERSION = "5.3";

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [extra: string]: unknown;
}

export interface JupyterMessage<C = Record<string, any>> {
  /** zeromq routing identities (ROUTER sockets) or the topic (PUB). */
  identities: Buffer[];
  header: MessageHeader;
  /** `{}` when the message has no parent. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

export function newHeader(msgType: string, session: string, username = "tspool"): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

export interface MessageInit<C> {
  msgType: string;
  content: C;
  session: string;
  parent?: Partial<MessageHeader> | null;
  identities?: Buffer[];
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
  username?: string;
}

/** Builds a message (fresh header). Replies usually pass `identities` of the request. */
export function makeMessage<C>(init: MessageInit<C>): JupyterMessage<C> {
  return {
    identities: init.identities ?? [],
    header: newHeader(init.msgType, init.session, init.username),
    parent_header: init.parent ?? {},
    metadata: init.metadata ?? {},
    content: init.content,
    buffers: init.buffers ?? [],
  };
}

/** Serialises and signs a message into zeromq frames. */
export function encodeMessage(msg: JupyterMessage<unknown>, signer: Signer): Buffer[] {
  const parts = [
    Buffer.from(JSON.stringify(msg.header), "utf8"),
    Buffer.from(JSON.stringify(msg.parent_header ?? {}), "utf8"),
    Buffer.from(JSON.stringify(msg.metadata ?? {}), "utf8"),
    Buffer.from(JSON.stringify(msg.content ?? {}), "utf8"),
  ];
  return [
    ...msg.identities,
    Buffer.from(DELIMITER, "utf8"),
    Buffer.from(signer.sign(parts), "latin1"),
    ...parts,
    ...msg.buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
  ];
}

export type DecodeResult =
  | { ok: true; message: JupyterMessage }
  | { ok: false; reason: string; identities: Buffer[] };

/** Parses frames received on a socket, verifying the signature. Never throws. */
export function decodeMessage(frames: readonly Buffer[], signer: Signer): DecodeResult {
  const delim = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("utf8") === DELIMITER);
  if (delim < 0) return { ok: false, reason: "no <IDS|MSG> delimiter frame", identities: [] };
  const identities = frames.slice(0, delim).map((f) => Buffer.from(f));
  if (frames.length < delim + 6) {
    return { ok: false, reason: `expected at least 5 frames after the delimiter, got ${frames.length - delim - 1}`, identities };
  }
  const signature = frames[delim + 1];
  const parts = frames.slice(delim + 2, delim + 6);
  if (!signer.verify(signature, parts)) return { ok: false, reason: "invalid signature", identities };
  let parsed: unknown[];
  try {
    parsed = parts.map((p) => JSON.parse(p.toString("utf8")));
  } catch (e) {
    return { ok: false, reason: `malformed JSON: ${(e as Error).message}`, identities };
  }
  const [header, parent, metadata, content] = parsed as any[];
  if (!header || typeof header !== "object" || typeof header.msg_type !== "string") {
    return { ok: false, reason: "header has no msg_type", identities };
  }
  return {
    ok: true,
    message: {
      identities,
      header,
      parent_header: parent && typeof parent === "object" ? parent : {},
      metadata: metadata && typeof metadata === "object" ? metadata : {},
      content: content && typeof content === "object" ? content : {},
      buffers: frames.slice(delim + 6).map((f) => Buffer.from(f)),
    },
  };
}
