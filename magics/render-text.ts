/**
 * text/plain rendering of a map's progress and summary. Every console line of a worker is
 * prefixed with its worker (`[worker 0] ...`) so consoles and static converters (nbconvert to
 * text/markdown) keep the attribution.
 */
import type { MapProgress } from "./map-progress.js";
import { formatMs, formatRate, textBar } from "./format.js";

export function progressHeadline(p: MapProgress): string {
  const total = p.total;
  const count = total === undefined ? `${p.done} items` : `${p.done}/${total} items`;
  const parts = [count, formatRate(p.rate()), `elapsed ${formatMs(p.elapsedMs())}`];
  if (!p.finished) {
    const eta = p.etaMs();
    if (eta !== undefined) parts.push(`ETA ${formatMs(eta)}`);
  }
  return `${p.title}: ${parts.join(" · ")}`;
}

export function summaryLines(p: MapProgress): string[] {
  const workers = p.sortedWorkers();
  const wall = p.elapsedMs();
  const lines: string[] = [];
  const status = p.failed ? "stopped after" : "done:";
  lines.push(`${p.title} ${status} ${p.done}${p.total !== undefined ? "/" + p.total : ""} items in ${formatMs(wall)} (${formatRate(p.rate())}) on ${workers.length} worker${workers.length === 1 ? "" : "s"}`);
  for (const w of workers) {
    lines.push(`  worker ${w.id}${w.pid !== undefined ? ` (pid ${w.pid})` : ""}: ${w.items} item${w.items === 1 ? "" : "s"} in ${w.tasks} task${w.tasks === 1 ? "" : "s"}, busy ${formatMs(w.busyMs)}`);
  }
  lines.push(`  summed task time ${formatMs(p.busyMs())} / wall time ${formatMs(wall)} = speedup ${p.speedup().toFixed(2)}x`);
  return lines;
}

export function renderText(p: MapProgress): string {
  const out: string[] = [];
  if (p.finished) {
    out.push(...summaryLines(p));
  } else {
    out.push(progressHeadline(p));
    if (p.total !== undefined && p.total > 0) out.push(`[${textBar(p.done / p.total)}] ${Math.floor((100 * p.done) / p.total)}%`);
    for (const w of p.sortedWorkers()) {
      out.push(`worker ${w.id}${w.pid !== undefined ? ` (pid ${w.pid})` : ""}: ${w.items} item${w.items === 1 ? "" : "s"} done${w.running ? ", running" : ""}`);
    }
  }
  for (const w of p.sortedWorkers()) {
    if (w.droppedLines > 0) out.push(`[worker ${w.id}] … ${w.droppedLines} earlier lines not shown`);
    for (const l of w.lines) out.push(`[worker ${w.id}]${l.stream === "stderr" ? " (stderr)" : ""} ${l.text}`);
  }
  return out.join("\n");
}
