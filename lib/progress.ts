/**
 * Progress of long work (training epochs, seeds, settings): an updating line in a notebook
 * (one output replaced in place) and throttled lines on stderr in scripts.
 */
import { LiveDisplay, type MimeBundle, inNotebook } from "./notebook";

export type ProgressInfo = Record<string, number | string>;

export interface ProgressOptions {
  /** Minimum milliseconds between two stderr lines (the last update is always written). */
  throttleMs: number;
  /** Where script progress goes; defaults to stderr. */
  write: (line: string) => void;
}

export const DEFAULT_PROGRESS: ProgressOptions = {
  throttleMs: 2000,
  write: (line) => process.stderr.write(line + "\n"),
};

function formatInfo(info: ProgressInfo): string {
  return Object.entries(info)
    .map(([k, v]) => `${k} ${typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v}`)
    .join(", ");
}

/** Reports `done / total` of a labelled piece of work with free-form metrics. */
export class Progress {
  private readonly display = inNotebook() ? new LiveDisplay() : undefined;
  private readonly started = Date.now();
  private lastWrite = 0;
  private readonly opts: ProgressOptions;

  constructor(
    readonly label: string,
    readonly total: number,
    opts: Partial<ProgressOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PROGRESS, ...opts };
  }

  /** The line shown for a state, e.g. `CausalMMM seed 1: 3/20 (15%) 4.2 s, loss 0.31`. */
  line(done: number, info: ProgressInfo = {}): string {
    // rounded down, so that work still under way never shows as complete
    const pct = this.total > 0 ? Math.floor((100 * done) / this.total) : 100;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const extra = formatInfo(info);
    // fractional progress (an epoch part-way through its batches) to one decimal
    const shown = Number.isInteger(done) ? String(done) : (Math.floor(done * 10) / 10).toFixed(1);
    return `${this.label}: ${shown}/${this.total} (${pct}%) ${secs} s${extra ? `, ${extra}` : ""}`;
  }

  update(done: number, info: ProgressInfo = {}): void {
    const text = this.line(done, info);
    const now = Date.now();
    if (this.display) {
      // tslab sends on Jupyter's socket without waiting: two messages in the same turn of the
      // event loop collide ("Socket is busy writing"), so notebook updates are rare (>= 1 s
      // apart) and the training loop yields to the event loop after each batch.
      if (done < this.total && now - this.lastWrite < 1000) return;
      this.lastWrite = now;
      const pct = this.total > 0 ? (100 * done) / this.total : 100;
      this.display.update({
        "text/plain": text,
        "text/html":
          `<div style="font-family:monospace"><progress value="${pct.toFixed(1)}" max="100" style="width:12em"></progress> ` + `${escapeHtml(text)}</div>`,
      });
      return;
    }
    if (done >= this.total || now - this.lastWrite >= this.opts.throttleMs) {
      this.lastWrite = now;
      this.opts.write(text);
    }
  }
}

/** A display a line can replace in place (a {@link LiveDisplay} in a notebook). */
export interface LineDisplay {
  update(bundle: MimeBundle): boolean;
}

/** The job and label of a child's progress line (`[job #k pid N] label: done/total (p%) ...`, lib/runner), or null. */
export function progressKey(line: string): string | null {
  const m = /^(\[[^\]]*\] [^:]*?): [0-9.]+\/[0-9]+ \([0-9]+%\)/.exec(line);
  return m ? m[1] : null;
}

/**
 * A log for lines that include child processes' progress (lib/runner prefixes each child's
 * lines with its job): in a notebook each job's progress replaces its previous line in one
 * display, so a cell keeps the last state of every job instead of hundreds of lines; every other
 * line, and every line outside a notebook, goes to `write`. `open` makes the displays (default:
 * a {@link LiveDisplay} inside a notebook, none outside).
 */
export function progressLog(
  write: (line: string) => void = (line) => console.log(line),
  open: () => LineDisplay | undefined = () => (inNotebook() ? new LiveDisplay() : undefined),
): (line: string) => void {
  const displays = new Map<string, LineDisplay>();
  return (line) => {
    const key = progressKey(line);
    if (key !== null) {
      let display = displays.get(key);
      if (!display) {
        display = open();
        if (display) displays.set(key, display);
      }
      if (display?.update({ "text/plain": line })) return;
    }
    write(line);
  };
}

/** `s` with the characters that are special in HTML escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Lets pending I/O (Jupyter messages, worker replies) run before the next piece of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `f` and returns its value with the time it took in milliseconds (`performance.now()`). */
export function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const value = f();
  return [value, performance.now() - t0];
}
