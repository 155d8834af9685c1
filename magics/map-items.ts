/**
 * The ITERABLE of `%%pool map`/`starmap` as the array the farm takes: arrays and typed arrays as
 * they are (numbers take the farm's fast path), other iterables and async iterables collected.
 */
import { MagicUsageError } from "./parse.js";
import type { InterruptWatch } from "./cell-interrupt.js";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"}) that is not iterable`;
  return `a ${typeof value}`;
}

/**
 * `interrupt`: an async iterable is consumed only until the cell is interrupted (the iterator is
 * then closed, and CellInterrupted thrown).
 */
export async function toItems(value: unknown, form: string, star: boolean, interrupt?: InterruptWatch): Promise<readonly unknown[] | ArrayLike<number>> {
  let items: readonly unknown[] | ArrayLike<number>;
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    items = value as readonly unknown[] | ArrayLike<number>;
  } else if (value !== null && typeof value === "object" && Symbol.asyncIterator in value) {
    const out: unknown[] = [];
    for await (const v of value as AsyncIterable<unknown>) {
      interrupt?.check();
      out.push(v);
    }
    items = out;
  } else if (value !== null && (typeof value === "object" || typeof value === "string") && Symbol.iterator in Object(value)) {
    items = Array.from(value as Iterable<unknown>);
  } else {
    throw new MagicUsageError(`the ITERABLE of \`${form}\` evaluated to ${describe(value)}; give an array or another iterable, e.g. \`${form} [1, 2, 3]\`.`);
  }
  if (star) {
    const arr = items as readonly unknown[];
    for (let i = 0; i < arr.length; i++) {
      if (!Array.isArray(arr[i])) {
        throw new MagicUsageError(`\`${form}\` spreads each element as the function's arguments, but element ${i} is not an array; use \`%%pool map\` for single arguments, or give arrays like \`[[1, 2], [3, 4]]\`.`);
      }
    }
  }
  return items;
}
