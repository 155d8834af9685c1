/**
 * `import * as tslab from "tslab"` inside tspool: the API of tslab 1.0 (`display.*`,
 * `newDisplay()`, `versions`) on top of tspool's display machinery, so notebooks written for
 * tslab keep working. The kernel maps the module name "tslab" here, for the type checker too.
 */
import { randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import ts from "../compiler/typescript.cjs";
import type { MimeBundle } from "../executor/protocol.js";
import { display as show } from "./index.js";

export interface Display {
  javascript(s: string): void;
  html(s: string): void;
  markdown(s: string): void;
  latex(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void;
  gif(b: Uint8Array): void;
  pdf(b: Uint8Array): void;
  text(s: string): void;
  raw(contentType: string, b: string | Uint8Array): void;
}

const b64 = (b: Uint8Array | string) => (typeof b === "string" ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64"));

function makeDisplay(id?: string): Display {
  let shown = false;
  const send = (data: MimeBundle) => {
    const update = id !== undefined && shown;
    shown = true;
    show.bundle(data, id === undefined ? undefined : { id, update });
  };
  return {
    javascript: (s) => send({ "application/javascript": s, "text/plain": "[JavaScript]" }),
    html: (s) => send({ "text/html": s, "text/plain": "[HTML]" }),
    markdown: (s) => send({ "text/markdown": s, "text/plain": s }),
    latex: (s) => send({ "text/latex": s, "text/plain": s }),
    svg: (s) => send({ "image/svg+xml": s, "text/plain": "[SVG image]" }),
    png: (b) => send({ "image/png": b64(b), "text/plain": "[PNG image]" }),
    jpeg: (b) => send({ "image/jpeg": b64(b), "text/plain": "[JPEG image]" }),
    gif: (b) => send({ "image/gif": b64(b), "text/plain": "[GIF image]" }),
    pdf: (b) => send({ "application/pdf": b64(b), "text/plain": "[PDF document]" }),
    text: (s) => send({ "text/plain": s }),
    raw: (contentType, b) => send({ [contentType]: typeof b === "string" ? b : b64(b), "text/plain": `[${contentType}]` }),
  };
}

/** Displays rich content below the cell (each call adds an output). */
export const display: Display = makeDisplay();

/** A display that shows one output and replaces it on every later call. */
export function newDisplay(): Display {
  return makeDisplay(randomUUID());
}

export const versions = { tslab: "1.0.22 (tspool compatible)", typescript: ts.version, node: process.version };
