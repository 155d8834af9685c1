/**
 * Shows a map's progress as one display under the cell, updated in place (`update_display_data`
 * on the same display_id) at most every `intervalMs` (100 ms: ten updates a second), and finally
 * replaced by the summary. While the map runs, the display is also refreshed every `refreshMs`
 * (a second) when nothing else changed, so that elapsed time, rate and ETA keep moving during
 * long tasks; that timer ends with the display (finish), and never keeps the process alive. With `timeline`, the Gantt chart follows as a display of its own, so
 * frontends that prefer Vega-Lite still show the per-worker panels.
 *
 * Frontends that ignore `update_display_data` (jupyter console prints each display_data once and
 * never revisits it) would only ever see the first, empty state. So when the display is the
 * cell's only output, the final state goes out as `clear_output` (wait) followed by a fresh
 * `display_data` with the same display_id: a console prints the summary and the labelled worker
 * lines, a notebook swaps the live display for it (one output, no duplicate), and the display
 * stays addressable by its id.
 */
import { randomUUID } from "node:crypto";
import type { ClearOutputEvent, DisplayEvent } from "../kernel/executor/protocol.js";
import type { MapProgress } from "./map-progress.js";
import { renderHtml } from "./render-html.js";
import { renderText } from "./render-text.js";
import { timelineCaption, timelineSvg, timelineVegaLite } from "./render-timeline.js";

export interface LiveDisplayOptions {
  parent: string;
  emit: (event: DisplayEvent | ClearOutputEvent) => void;
  timeline?: boolean;
  /** Least time between two updates (ms). */
  intervalMs?: number;
  /** Most time between two updates while the map runs (ms). */
  refreshMs?: number;
}

export class LiveMapDisplay {
  readonly displayId = `tspool-map-${randomUUID()}`;
  private shown = false;
  /** The one pending update, and when it is due (performance.now() time). */
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private lastEmit = 0;
  private closed = false;
  private readonly intervalMs: number;
  private readonly refreshMs: number;

  constructor(private readonly progress: MapProgress, private readonly opts: LiveDisplayOptions) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.refreshMs = Math.max(this.intervalMs, opts.refreshMs ?? 1000);
  }

  /** Whether the display shows its final state (no update follows). */
  get isFinished(): boolean {
    return this.closed;
  }

  private bundle(): Record<string, unknown> {
    return { "text/plain": renderText(this.progress), "text/html": renderHtml(this.progress) };
  }

  private send(fresh = false): void {
    this.lastEmit = performance.now();
    this.opts.emit({
      type: "display",
      parent: this.opts.parent,
      update: this.shown && !fresh,
      data: this.bundle(),
      metadata: {},
      transient: { display_id: this.displayId },
    });
    this.shown = true;
  }

  /** Schedules an update at `due` unless one is already due by then. */
  private schedule(due: number): void {
    if (this.closed || (this.timer && this.timerDue <= due)) return;
    this.cancelTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      if (this.closed) return;
      this.send();
      this.schedule(this.lastEmit + this.refreshMs);
    }, Math.max(0, due - performance.now()));
    this.timer.unref?.();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  /** Shows the display now (progress at zero), refreshed from now on until finish. */
  start(): void {
    if (this.shown || this.closed) return;
    this.send();
    this.schedule(this.lastEmit + this.refreshMs);
  }

  /** Something changed: update the display, no sooner than `intervalMs` after the last update. */
  changed(): void {
    this.schedule(Math.max(performance.now(), this.lastEmit + this.intervalMs));
  }

  /**
   * Replaces the display with the summary (and shows the timeline when asked). `alone`: the
   * display is the cell's only output, so the summary may be re-shown as a fresh display after
   * clearing the cell (see above); otherwise it is updated in place, as clearing would take the
   * cell's other outputs with it.
   */
  finish(opts: { alone?: boolean } = {}): void {
    if (this.closed) return;
    this.cancelTimer();
    this.progress.finish(this.progress.failed);
    const fresh = this.shown && opts.alone === true;
    if (fresh) this.opts.emit({ type: "clear_output", parent: this.opts.parent, wait: true });
    this.send(fresh);
    this.closed = true;
    if (this.opts.timeline && this.progress.spans.length > 0) {
      this.opts.emit({
        type: "display",
        parent: this.opts.parent,
        update: false,
        data: {
          "application/vnd.vegalite.v5+json": timelineVegaLite(this.progress),
          "image/svg+xml": timelineSvg(this.progress),
          "text/plain": timelineCaption(this.progress),
        },
        metadata: {},
        transient: {},
      });
    }
  }
}
