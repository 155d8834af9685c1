/** Tables for `%pool start` (the workers) and `%pool status` (per-worker state and counters), as text and HTML. */
import type { PoolStatus } from "../farm/events.js";
import type { WorkerInfo } from "./notebook-pool.js";
import { escapeHtml, formatBytes, formatMs } from "./format.js";

function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function htmlTable(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th style="text-align:left;padding:2px 8px">${escapeHtml(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td style="padding:2px 8px">${escapeHtml(c)}</td>`).join("")}</tr>`).join("");
  return `<table class="tspool-status"><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

export function workersBundle(title: string, workers: WorkerInfo[]): Record<string, string> {
  const head = ["worker", workers[0]?.kind === "thread" ? "thread id" : "pid"];
  const rows = workers.map((w) => [`worker ${w.id}`, String(w.kind === "thread" ? w.threadId : w.pid)]);
  return {
    "text/plain": `${title}\n${textTable(head, rows)}`,
    "text/html": `<div><b>${escapeHtml(title)}</b>${htmlTable(head, rows)}</div>`,
  };
}

export function statusBundle(st: PoolStatus): Record<string, string> {
  const threads = st.threads;
  const head = ["worker", threads ? "thread id" : "pid", "state", "tasks done", "items done", "busy", "memory", "restarts", "running"];
  const rows = st.workers.map((w) => [
    `worker ${w.id}`,
    String(threads ? w.threadId : w.pid),
    w.state,
    String(w.tasksDone),
    String(w.itemsDone),
    formatMs(w.busyMs),
    threads ? "shared" : formatBytes(w.rss ?? undefined),
    String(w.restarts),
    w.current
      ? `${w.current.kind}${w.current.range ? (w.current.range[1] - w.current.range[0] === 1 ? ` item ${w.current.range[0]}` : ` items ${w.current.range[0]}..${w.current.range[1] - 1}`) : ""} for ${formatMs(w.current.runningMs)}`
      : "-",
  ]);
  const kind = threads ? "thread" : "process";
  const title = `pool: ${st.size} ${kind} worker${st.size === 1 ? "" : "s"}` +
    (st.queuedJobs ? `, ${st.queuedJobs} queued` : "") +
    (st.broken ? ` — broken: ${st.broken}` : st.closed ? " — closed" : "");
  const note = threads ? sharedMemoryNote(st) : undefined;
  return {
    "text/plain": `${title}\n${textTable(head, rows)}${note ? `\n${note}` : ""}`,
    "text/html": `<div><b>${escapeHtml(title)}</b>${htmlTable(head, rows)}${note ? `<div style="color:#555;font-size:12px">${escapeHtml(note)}</div>` : ""}</div>`,
  };
}

/**
 * Thread workers live in the kernel's process: what they report is the whole process's resident
 * set (the kernel and every thread), not their own, so it is given once, for what it is.
 */
function sharedMemoryNote(st: PoolStatus): string {
  const reported = st.workers.map((w) => w.rss).filter((r): r is number => typeof r === "number");
  const total = reported.length ? ` (${formatBytes(Math.max(...reported))} resident in all)` : "";
  return `memory: thread workers share the kernel's process${total}; a thread's own use is not measured separately.`;
}
