/**
 * Which kernel a notebook says it is for, and what `tspool run` records once it has run it: the
 * tspool kernelspec, so that the written notebook's kernelspec agrees with its language_info
 * (and with the TypeScript outputs in it) even when the notebook was written for another kernel.
 */
import { kernelspecTemplate } from "../kernel/install.js";
import type { Notebook } from "./notebook.js";

export interface Kernelspec { name: string; display_name: string; language: string }

/** The kernelspec `tspool install` writes by default (name "tspool"). */
export function tspoolKernelspec(): Kernelspec {
  return { name: "tspool", display_name: String(kernelspecTemplate().display_name), language: "typescript" };
}

/**
 * Makes `nb` say it is for tspool, as it is about to be run with it. A kernelspec of tspool's own
 * (any name containing "tspool", e.g. one installed with --name tspool-dev) is kept. Returns the
 * kernel the notebook was written for when that was another one (for a note to the user), else null.
 */
export function adoptTspoolKernelspec(nb: Notebook): string | null {
  const spec = nb.metadata.kernelspec;
  const name = typeof spec?.name === "string" ? spec.name : undefined;
  const language = spec?.language ?? nb.metadata.language_info?.name;
  const ours = name !== undefined && name.includes("tspool") && (typeof language !== "string" || /typescript/i.test(language));
  if (ours) return null;
  nb.metadata.kernelspec = tspoolKernelspec();
  return name ?? (typeof language === "string" ? language : null);
}
