/**
 * The `--timeline` chart: one row per worker, one bar per task (chunk) from its start to its end.
 * As a Vega-Lite v5 spec (for frontends that render `application/vnd.vegalite.v5+json`) and as a
 * static SVG drawn here (for viewers without Vega, and for nbconvert).
 */
import type { MapProgress, SpanStatus, TaskSpan } from "./map-progress.js";
import { escapeHtml, plural } from "./format.js";

const COLORS: Record<SpanStatus, string> = { ok: "#4a8", failed: "#c33", stopped: "#999" };
const STATUS_WORDS: Record<SpanStatus, string> = { ok: "ok", failed: "failed", stopped: "stopped unfinished" };

/**
 * The timeline's text/plain: what the chart shows, e.g. "timeline of 3 tasks (2 ok, 1 failed) on
 * 2 workers"; tasks stopped before they finished are drawn (grey) and counted as such.
 */
export function timelineCaption(p: MapProgress): string {
  const counts = new Map<SpanStatus, number>();
  for (const s of p.spans) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const mixed = counts.size > 1 || !counts.has("ok");
  const breakdown = mixed ? ` (${[...counts].map(([status, n]) => `${n} ${STATUS_WORDS[status]}`).join(", ")})` : "";
  return `${p.title}: timeline of ${plural(p.spans.length, "task")}${breakdown} on ${plural(p.workers.size, "worker")}`;
}

export function timelineVegaLite(p: MapProgress): Record<string, unknown> {
  const values = p.spans.map((s) => ({
    worker: `worker ${s.workerId}`,
    start: round(s.start),
    end: round(s.end),
    items: s.count === 1 ? `item ${s.first}` : `items ${s.first}–${s.first + s.count - 1}`,
    status: s.status,
    ms: round(s.end - s.start),
  }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    description: `${p.title}: tasks per worker over time`,
    width: 600,
    height: { step: 24 },
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "worker", type: "nominal", title: null, sort: "ascending" },
      x: { field: "start", type: "quantitative", title: "ms since start" },
      x2: { field: "end" },
      color: { field: "status", type: "nominal", scale: { domain: Object.keys(COLORS), range: Object.values(COLORS) }, legend: null },
      tooltip: [
        { field: "worker", type: "nominal" },
        { field: "items", type: "nominal" },
        { field: "ms", type: "quantitative", title: "duration (ms)" },
        { field: "status", type: "nominal" },
      ],
    },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A nice axis step for a range of `span` ms with about `ticks` ticks. */
function tickStep(span: number, ticks: number): number {
  const raw = span / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function timelineSvg(p: MapProgress): string {
  const workers = p.sortedWorkers().map((w) => w.id);
  const spans: TaskSpan[] = p.spans;
  const maxEnd = Math.max(1, p.elapsedMs(), ...spans.map((s) => s.end));
  const left = 70;
  const right = 16;
  const plotW = 600;
  const rowH = 24;
  const top = 8;
  const axisH = 30;
  const height = top + rowH * Math.max(1, workers.length) + axisH;
  const width = left + plotW + right;
  const x = (ms: number) => left + (ms / maxEnd) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeHtml(p.title)}: tasks per worker over time</title>`);
  workers.forEach((id, row) => {
    const y = top + row * rowH;
    out.push(`<text x="${left - 6}" y="${y + rowH / 2 + 4}" text-anchor="end">worker ${id}</text>`);
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y + rowH}" y2="${y + rowH}" stroke="#eee"/>`);
  });
  for (const s of spans) {
    const row = workers.indexOf(s.workerId);
    if (row < 0) continue;
    const y = top + row * rowH + 3;
    const x0 = x(s.start);
    const w = Math.max(0.5, x(s.end) - x0);
    const label = s.count === 1 ? `item ${s.first}` : `items ${s.first}–${s.first + s.count - 1}`;
    out.push(`<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${COLORS[s.status]}" stroke="#fff" stroke-width="0.5"><title>worker ${s.workerId}, ${label}: ${(s.end - s.start).toFixed(1)} ms${s.status === "ok" ? "" : ` (${STATUS_WORDS[s.status]})`}</title></rect>`);
  }
  const axisY = top + rowH * Math.max(1, workers.length);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`);
  const step = tickStep(maxEnd, 6);
  for (let t = 0; t <= maxEnd + 1e-9; t += step) {
    const tx = x(t);
    out.push(`<line x1="${tx.toFixed(2)}" x2="${tx.toFixed(2)}" y1="${axisY}" y2="${axisY + 4}" stroke="#333"/>`);
    out.push(`<text x="${tx.toFixed(2)}" y="${axisY + 15}" text-anchor="middle">${Number(t.toPrecision(6))}</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${axisY + 28}" text-anchor="middle" fill="#555">ms since start</text>`);
  out.push(`</svg>`);
  return out.join("\n");
}
