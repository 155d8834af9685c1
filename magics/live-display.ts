/**
 * Shows a map's progress as one display under the cell, updated in place (`update_display_data`
 * on the same display_id) at most every `intervalMs` (100 ms: ten updates a second), and finally
 * replaced by the summary. With `timeline`, the Gantt chart follows as a display of its own, so
 * frontends that prefer Vega-Lite still show the per-worker panels.
 */
import { randomUUID } from "node:crypto";
import type { DisplayEvent } from "../kernel/executor/protocol.js";
import type { MapProgress } from "./map-progress.js";
import { renderHtml } from "./render-html.js";
import { renderText } from "./render-text.js";
import { timelineSvg, timelineVegaLite } from "./render-timeline.js";

export interface LiveDisplayOptions {
  parent: string;
  emit: (event: DisplayEvent) => void;
  timeline?: boolean;
  intervalMs?: number;
}

export class LiveMapDisplay {
  readonly displayId = `tspool-map-${randomUUID()}`;
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private lastEmit = 0;
  private closed = false;
  private readonly intervalMs: number;

  constructor(private readonly progress: MapProgress, private readonly opts: LiveDisplayOptions) {
    this.intervalMs = opts.intervalMs ?? 100;
  }

  private bundle(): Record<string, unknown> {
    return { "text/plain": renderText(this.progress), "text/html": renderHtml(this.progress) };
  }

  private send(): void {
    this.lastEmit = performance.now();
    this.opts.emit({
      type: "display",
      parent: this.opts.parent,
      update: this.shown,
      data: this.bundle(),
      metadata: {},
      transient: { display_id: this.displayId },
    });
    this.shown = true;
  }

  /** Shows the display now (progress at zero). */
  start(): void {
    if (!this.shown && !this.closed) this.send();
  }

  /** Something changed: update the display, no sooner than `intervalMs` after the last update. */
  changed(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, this.intervalMs - (performance.now() - this.lastEmit));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.send();
    }, wait);
    this.timer.unref?.();
  }

  /** Replaces the display with the summary (and shows the timeline when asked). */
  finish(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.progress.finish(this.progress.failed);
    this.send();
    this.closed = true;
    if (this.opts.timeline && this.progress.spans.length > 0) {
      this.opts.emit({
        type: "display",
        parent: this.opts.parent,
        update: false,
        data: {
          "application/vnd.vegalite.v5+json": timelineVegaLite(this.progress),
          "image/svg+xml": timelineSvg(this.progress),
          "text/plain": `${this.progress.title}: timeline of ${this.progress.spans.length} tasks on ${this.progress.workers.size} workers`,
        },
        metadata: {},
        transient: {},
      });
    }
  }
}
