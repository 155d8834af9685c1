/**
 * Reading and writing Jupyter notebooks (nbformat 4) for the runner.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** nbformat's multiline_string: one string or a list of lines. */
export type MultilineString = string | string[];

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: MultilineString }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; execution_count: number | null; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  [extra: string]: unknown;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

export function joinSource(s: MultilineString | undefined): string {
  return Array.isArray(s) ? s.join("") : (s ?? "");
}

/** Splits text into nbformat's list-of-lines form (each line keeps its "\n"). */
export function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

/** Reads a notebook, throwing an Error that says what is wrong with the file. */
export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `No such notebook: ${path}` : `Cannot read ${path}: ${(e as Error).message}`);
  }
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not a notebook: it is not valid JSON (${(e as Error).message}).`);
  }
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.cells)) {
    throw new Error(`${path} is not a notebook: it has no "cells" list.`);
  }
  if (raw.nbformat !== 4) {
    throw new Error(`${path} is nbformat ${raw.nbformat}; tspool run reads nbformat 4 (convert it with \`jupyter nbconvert --to notebook\`).`);
  }
  raw.cells.forEach((c: any, i: number) => {
    if (!c || typeof c !== "object" || !["code", "markdown", "raw"].includes(c.cell_type)) {
      throw new Error(`${path}: cell ${i + 1} has no valid cell_type (expected "code", "markdown" or "raw").`);
    }
    if (typeof c.source !== "string" && !Array.isArray(c.source)) {
      throw new Error(`${path}: cell ${i + 1} has no source.`);
    }
    c.metadata ??= {};
  });
  raw.metadata ??= {};
  raw.nbformat_minor ??= 4;
  return raw as Notebook;
}

/** Writes a notebook the way Jupyter does (1-space indented JSON, trailing newline). */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileSync(path, JSON.stringify(nb, null, 1) + "\n");
}
