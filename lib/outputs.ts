/**
 * Sidecars of the study's outputs: a small JSON file next to each exported figure
 * (`<name>.figure.json`) and table (`<name>.table.json`) saying what it is and which notebook
 * made it, read by the figures index (lib/runner/figure-index.ts). The notebook runner names the
 * notebook it executes in `STUDY_NOTEBOOK`.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const NOTEBOOK_ENV = "STUDY_NOTEBOOK";

export type OutputType = "figure" | "table";

export interface OutputMeta {
  type: OutputType;
  name: string;
  caption: string | null;
  /** The notebook's file name, or null outside the notebook runner. */
  notebook: string | null;
  /** ISO time of writing. */
  created: string;
}

/** Path of the sidecar of output `name` of a type in `dir`. */
export function sidecarPath(dir: string, type: OutputType, name: string): string {
  return join(dir, `${name}.${type}.json`);
}

/** Writes the sidecar (atomically); returns its path. */
export function writeSidecar(dir: string, type: OutputType, name: string, caption: string | null = null): string {
  const meta: OutputMeta = { type, name, caption, notebook: process.env[NOTEBOOK_ENV] || null, created: new Date().toISOString() };
  const file = sidecarPath(dir, type, name);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(meta, null, 2) + "\n");
  renameSync(tmp, file);
  return file;
}
