/**
 * What `%%pool map --unordered` answers: the results in the order their tasks finished, each
 * task's items in input order (as the farm's imapUnordered yields them). The map itself runs as
 * an ordinary map, whose results come back in one array with no per-item cost; the order the
 * tasks finished in is what the map's progress recorded from the farm's task events, which the
 * farm emits as each task's result arrives.
 */
import type { TaskSpan } from "./map-progress.js";

export function inCompletionOrder<T>(results: readonly T[], spans: readonly TaskSpan[]): T[] {
  const out: T[] = [];
  const taken = new Uint8Array(results.length);
  for (const span of spans) {
    if (span.status !== "ok") continue;
    const end = Math.min(results.length, span.first + span.count);
    for (let i = span.first; i < end; i++) {
      if (taken[i]) continue;
      taken[i] = 1;
      out.push(results[i]!);
    }
  }
  // Items no finished task accounts for (none, when every task's end was seen) keep input order.
  for (let i = 0; i < results.length; i++) if (!taken[i]) out.push(results[i]!);
  return out;
}
