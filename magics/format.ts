/** Human-readable durations, rates and sizes for the magics' displays and timing reports. */

/** Milliseconds in, e.g. 0.42 -> "420 µs", 12.3 -> "12.3 ms", 4321 -> "4.32 s", 200000 -> "3 min 20 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms === 0) return "0 s";
  if (ms < 0.001) return `${(ms * 1e6).toPrecision(3)} ns`;
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toPrecision(3)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms - m * 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function formatRate(perSecond: number, unit = "items"): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return `0 ${unit}/s`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toPrecision(3)}M ${unit}/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toPrecision(3)}k ${unit}/s`;
  return `${perSecond.toPrecision(3)} ${unit}/s`;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** "1 task", "3 tasks", "0 items". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A fixed-width text progress bar. */
export function textBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return "█".repeat(full) + "░".repeat(width - full);
}
