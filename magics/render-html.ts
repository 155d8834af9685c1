/**
 * text/html rendering of a map's progress and summary: a progress bar with the headline, then a
 * panel per worker (its pid, tasks, busy time and its own console lines, stderr in red).
 */
import type { MapProgress, WorkerProgress } from "./map-progress.js";
import { escapeHtml, formatMs, plural } from "./format.js";
import { progressHeadline, summaryLines, workerActivity } from "./render-text.js";

const PANEL = "border:1px solid #ccc;border-radius:4px;margin:4px 0;padding:4px 8px;";
// The lines scroll inside a box that starts at its bottom (column-reverse), so the newest stay in view.
const SCROLL = "display:flex;flex-direction:column-reverse;max-height:16em;overflow:auto;margin-top:2px;";
const PRE = "margin:0;font-size:12px;white-space:pre-wrap;";

function workerPanel(p: MapProgress, w: WorkerProgress): string {
  const identity = p.identity(w);
  const activity = p.finished ? undefined : workerActivity(p, w);
  const fate = p.finished ? w.fate : undefined;
  const head = `<b>worker ${w.id}</b>${identity ? ` <span style="color:#888">${escapeHtml(identity)}</span>` : ""}` +
    ` — ${plural(w.items, "item")}, ${plural(w.tasks, "task")}, busy ${escapeHtml(formatMs(w.busyMs))}` +
    (activity ? ` <span style="color:#2a7">${escapeHtml(activity)}</span>` : "") +
    (fate ? ` <span style="color:#a60">${escapeHtml(fate)}</span>` : "");
  let lines = "";
  if (w.lines.length > 0 || w.droppedLines > 0) {
    const dropped = w.droppedLines > 0 ? `<span style="color:#888">… ${w.droppedLines} earlier lines not shown here (they are in the cell's output)</span>\n` : "";
    const body = w.lines
      .map((l) => (l.stream === "stderr" ? `<span style="color:#c33">${escapeHtml(l.text)}</span>` : escapeHtml(l.text)))
      .join("\n");
    lines = `<div style="${SCROLL}"><pre style="${PRE}">${dropped}${body}</pre></div>`;
  }
  return `<div class="tspool-worker" data-worker="${w.id}" style="${PANEL}">${head}${lines}</div>`;
}

export function renderHtml(p: MapProgress): string {
  const parts: string[] = [];
  if (p.finished) {
    const [first, ...rest] = summaryLines(p);
    parts.push(`<div><b>${escapeHtml(first)}</b></div>`);
    parts.push(`<div style="color:#555;font-size:12px">${rest.slice(-1).map(escapeHtml).join("")}</div>`);
  } else {
    const frac = p.total ? Math.min(1, p.done / p.total) : 0;
    parts.push(`<div>${escapeHtml(progressHeadline(p))}</div>`);
    parts.push(
      `<div style="background:#eee;height:8px;border-radius:4px;width:100%;max-width:40em">` +
        `<div style="background:#4a8;height:8px;border-radius:4px;width:${(frac * 100).toFixed(1)}%"></div></div>`,
    );
  }
  for (const w of p.sortedWorkers()) parts.push(workerPanel(p, w));
  return `<div class="tspool-map">${parts.join("\n")}</div>`;
}
