/**
 * The bridge to the tslab kernel: detects whether code runs inside a notebook and publishes
 * rich outputs (multi-MIME bundles, updatable displays) there.
 *
 * Detection costs nothing outside a notebook: it looks for tslab's already-loaded Jupyter module
 * in the require cache instead of loading it (which would pull in the TypeScript compiler).
 */
import { randomBytes } from "node:crypto";

/** A Jupyter MIME bundle, e.g. `{ "text/html": "...", "image/png": base64 }`. */
export type MimeBundle = Record<string, string>;

type WriteDisplay = (data: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

function writer(): WriteDisplay | undefined {
  const key = Object.keys(require.cache).find((k) => /tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
  const mod = key ? (require.cache[key]?.exports as { lastWriteDisplayData?: WriteDisplay | null }) : undefined;
  return mod?.lastWriteDisplayData ?? undefined;
}

/** True inside a tslab kernel that is executing a cell. */
export function inNotebook(): boolean {
  return writer() !== undefined;
}

/** Publishes a MIME bundle as a cell output; returns false outside a notebook. */
export function publish(bundle: MimeBundle): boolean {
  const write = writer();
  if (!write) return false;
  write({ data: bundle, metadata: {}, transient: {} }, false);
  return true;
}

/** A cell output that can be replaced in place (live progress). */
export class LiveDisplay {
  private readonly id = randomBytes(8).toString("hex");
  private shown = false;

  /** Shows or replaces the output; returns false outside a notebook. */
  update(bundle: MimeBundle): boolean {
    const write = writer();
    if (!write) return false;
    try {
      write({ data: bundle, metadata: {}, transient: { display_id: this.id } }, this.shown);
    } catch {
      return false; // a progress line is never worth failing the computation for
    }
    this.shown = true;
    return true;
  }
}

/**
 * Shows Markdown as a cell output (e.g. a conclusion written from the run's own numbers, so
 * that the prose is right at every scale); prints it as plain text outside a notebook.
 */
export function markdown(text: string): void {
  if (!publish({ "text/markdown": text, "text/plain": text })) process.stdout.write(`${text}\n`);
}
