/**
 * Result tables written beside the figures: CSV files in the figures folder of the current
 * scale, written atomically (a temporary file renamed into place), so that a reader never sees
 * a half-written table. A sidecar `<name>.table.json` records the notebook that wrote it (for
 * the figures index).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as aq from "arquero";
import { writeSidecar } from "./outputs";
import { figuresDir } from "./study";

const NAME = /^[A-Za-z0-9._-]+$/;

/** Writes `table` as `<dir>/<name>.csv`; returns the path. */
export function writeTable(name: string, table: aq.ColumnTable, dir: string = figuresDir()): string {
  if (!NAME.test(name)) throw new Error(`table name "${name}" must match ${NAME}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.csv`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, table.toCSV() + "\n");
  renameSync(tmp, file);
  writeSidecar(dir, "table", name);
  return file;
}
