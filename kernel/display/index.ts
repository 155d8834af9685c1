/**
 * The display API of every cell (`display`, `clearOutput`, `input`), also importable as
 * `tspool/display`. Every function takes an optional `{ id, update }`: `id` names the output
 * (Jupyter's display_id) and `update: true` replaces the output with that id in place.
 */
import { Buffer } from "node:buffer";
import type { MimeBundle } from "../executor/protocol.js";
import { toBundle } from "./bundle.js";
import { currentSink } from "./sink.js";

export { toBundle, DISPLAY_SYMBOL } from "./bundle.js";

export interface DisplayOptions {
  /** Name of this output, so that a later call with `update: true` can replace it. */
  id?: string;
  /** Replace the output previously shown with the same `id` instead of adding one. */
  update?: boolean;
}

export interface Display {
  /** Show any value: its rich representation when it has one, else as Node's REPL prints it. */
  (value: unknown, opts?: DisplayOptions): void;
  html(html: string, opts?: DisplayOptions): void;
  markdown(markdown: string, opts?: DisplayOptions): void;
  svg(svg: string, opts?: DisplayOptions): void;
  /** PNG image: the bytes, or their base64 text. */
  png(image: Uint8Array | string, opts?: DisplayOptions): void;
  /** JPEG image: the bytes, or their base64 text. */
  jpeg(image: Uint8Array | string, opts?: DisplayOptions): void;
  /** Any JSON-serializable value, shown as an interactive tree where the frontend supports it. */
  json(value: unknown, opts?: DisplayOptions): void;
  /** A Vega-Lite specification (v5 unless its `$schema` says otherwise). */
  vegaLite(spec: object, opts?: DisplayOptions): void;
  text(text: string, opts?: DisplayOptions): void;
  /** LaTeX, e.g. `$$e^{i\pi} = -1$$`. */
  latex(latex: string, opts?: DisplayOptions): void;
  /** A bundle of MIME types to data, sent as is (add `text/plain` yourself). */
  bundle(data: MimeBundle, opts?: DisplayOptions & { metadata?: Record<string, unknown> }): void;
}

function send(data: MimeBundle, opts: DisplayOptions | undefined, metadata: Record<string, unknown> = {}): void {
  if (opts !== undefined && (typeof opts !== "object" || opts === null))
    throw new TypeError(`display options must be an object like { id: "chart", update: true }, got ${typeof opts}`);
  if (opts?.update && !opts.id) throw new TypeError("display(..., { update: true }) needs the `id` of the output to replace");
  currentSink("display()").display(data, metadata, { id: opts?.id, update: opts?.update ?? false });
}

function base64(image: Uint8Array | string, what: string): string {
  if (typeof image === "string") return image;
  if (image instanceof Uint8Array) return Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString("base64");
  throw new TypeError(`display.${what}() takes the image bytes (Uint8Array/Buffer) or base64 text`);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`display.${what}() takes a string, got ${typeof value}`);
  return value;
}

function vegaLiteMime(spec: object): string {
  const schema = (spec as { $schema?: unknown }).$schema;
  const major = typeof schema === "string" ? /vega-lite\/v(\d+)/.exec(schema)?.[1] : undefined;
  return `application/vnd.vegalite.v${major ?? "5"}+json`;
}

export const display: Display = Object.assign(
  (value: unknown, opts?: DisplayOptions) => {
    const b = toBundle(value);
    send(b.data, opts, b.metadata);
  },
  {
    html: (s: string, o?: DisplayOptions) => send({ "text/html": text(s, "html"), "text/plain": "[HTML]" }, o),
    markdown: (s: string, o?: DisplayOptions) => send({ "text/markdown": text(s, "markdown"), "text/plain": s }, o),
    svg: (s: string, o?: DisplayOptions) => send({ "image/svg+xml": text(s, "svg"), "text/plain": "[SVG image]" }, o),
    png: (b: Uint8Array | string, o?: DisplayOptions) => send({ "image/png": base64(b, "png"), "text/plain": "[PNG image]" }, o),
    jpeg: (b: Uint8Array | string, o?: DisplayOptions) => send({ "image/jpeg": base64(b, "jpeg"), "text/plain": "[JPEG image]" }, o),
    json: (v: unknown, o?: DisplayOptions) =>
      send({ "application/json": JSON.parse(JSON.stringify(v ?? null)), "text/plain": JSON.stringify(v, null, 2) }, o),
    vegaLite: (spec: object, o?: DisplayOptions) => {
      if (!spec || typeof spec !== "object") throw new TypeError("display.vegaLite() takes a Vega-Lite specification object");
      send({ [vegaLiteMime(spec)]: spec, "text/plain": "[Vega-Lite chart]" }, o);
    },
    text: (s: string, o?: DisplayOptions) => send({ "text/plain": text(s, "text") }, o),
    latex: (s: string, o?: DisplayOptions) => send({ "text/latex": text(s, "latex"), "text/plain": s }, o),
    bundle: (data: MimeBundle, o?: DisplayOptions & { metadata?: Record<string, unknown> }) => send(data, o, o?.metadata ?? {}),
  },
);

/** Clear the cell's output now, or with `{ wait: true }` just before the next output arrives. */
export function clearOutput(opts?: { wait?: boolean }): void {
  currentSink("clearOutput()").clearOutput(opts?.wait ?? false);
}

export interface Input {
  /** Ask the user for a line of text (the frontend shows `prompt` and an input box). */
  (prompt?: string): Promise<string>;
  /** Like `input`, but the frontend hides what is typed. */
  password(prompt?: string): Promise<string>;
}

export const input: Input = Object.assign(
  (prompt = "") => currentSink("input()").input(String(prompt), false),
  { password: (prompt = "") => currentSink("input.password()").input(String(prompt), true) },
);
