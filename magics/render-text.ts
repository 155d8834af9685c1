/**
 * text/plain rendering of a map's progress and summary. Every console line of a worker is
 * prefixed with its worker (`[worker 0] ...`) so consoles and static converters (nbconvert to
 * text/markdown) keep the attribution.
 */
import { itemsLabel, type MapProgress, type WorkerProgress } from "./map-progress.js";
import { formatMs, formatRate, plural, textBar } from "./format.js";

export function progressHeadline(p: MapProgress): string {
  const total = p.total;
  const count = total === undefined ? `${p.done} items` : `${p.done}/${total} items`;
  const parts = [count, formatRate(p.rate()), `elapsed ${formatMs(p.elapsedMs())}`];
  if (!p.finished && p.stopReason === undefined) {
    const eta = p.etaMs();
    if (eta !== undefined) parts.push(`ETA ${formatMs(eta)}`);
  }
  const state = !p.finished && p.stopReason !== undefined ? ` stopping (${p.stopReason})` : "";
  return `${p.title}${state}: ${parts.join(" · ")}`;
}

/** "worker 1 (pid 123)", "worker 0 (thread 4)". */
export function workerName(p: MapProgress, w: WorkerProgress): string {
  const identity = p.identity(w);
  return `worker ${w.id}${identity ? ` (${identity})` : ""}`;
}

/** What a worker is doing while the map runs: "running item 3", "stopping items 4..7", or nothing. */
export function workerActivity(p: MapProgress, w: WorkerProgress): string | undefined {
  if (!w.running) return undefined;
  return `${p.stopReason === undefined ? "running" : "stopping"} ${itemsLabel(w.running.first, w.running.count)}`;
}

export function summaryLines(p: MapProgress): string[] {
  const workers = p.sortedWorkers();
  const wall = p.elapsedMs();
  const lines: string[] = [];
  const total = `${p.done}${p.total !== undefined ? "/" + p.total : ""} items`;
  const status = p.failed ? `stopped after ${total}${p.stopReason ? ` (${p.stopReason})` : ""}` : `done: ${total}`;
  lines.push(`${p.title} ${status} in ${formatMs(wall)} (${formatRate(p.rate())}) on ${plural(workers.length, "worker")}`);
  for (const w of workers) {
    const fate = w.fate ?? (w.running ? `${itemsLabel(w.running.first, w.running.count)} still running` : undefined);
    lines.push(`  ${workerName(p, w)}: ${plural(w.items, "item")} in ${plural(w.tasks, "task")}, busy ${formatMs(w.busyMs)}${fate ? `; ${fate}` : ""}`);
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
      const activity = workerActivity(p, w);
      out.push(`${workerName(p, w)}: ${plural(w.items, "item")} done${activity ? `, ${activity}` : ""}`);
    }
  }
  for (const w of p.sortedWorkers()) {
    if (w.droppedLines > 0) out.push(`[worker ${w.id}] … ${w.droppedLines} earlier lines not shown`);
    for (const l of w.lines) out.push(`[worker ${w.id}]${l.stream === "stderr" ? " (stderr)" : ""} ${l.text}`);
  }
  return out.join("\n");
}
