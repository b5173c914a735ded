/**
 * Result tables: shown in a notebook as HTML tables (Markdown as the plain-text form), and
 * written beside the figures as CSV files in the figures folder of the current scale, atomically
 * (a temporary file renamed into place), so that a reader never sees a half-written table. A
 * sidecar `<name>.table.json` records the notebook that wrote it (for the figures index).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as aq from "arquero";
import { publish } from "./notebook";
import { writeSidecar } from "./outputs";
import { figuresDir } from "./study";

const NAME = /^[A-Za-z0-9._-]+$/;

/** Writes `table` as `<dir>/<name>.csv`; returns the path. */
export function writeTable(name: string, table: aq.ColumnTable, dir: string = figuresDir()): string {
  if (!NAME.test(name)) throw new Error(`table name "${name}" must match ${NAME}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.csv`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, table.toCSV().replace(/\n?$/, "\n"));
  renameSync(tmp, file);
  writeSidecar(dir, "table", name);
  return file;
}

/**
 * Shows `table` as a cell output: an HTML table, with its Markdown form as the plain text that
 * viewers without HTML (and text searches of the executed notebook) read; outside a notebook
 * the Markdown is printed.
 */
export function showTable(table: aq.ColumnTable): void {
  const md = table.toMarkdown();
  const html = `<div class="graph-mmm-table">${table.toHTML()}</div>`;
  if (!publish({ "text/html": html, "text/plain": md })) process.stdout.write(`${md}\n`);
}

/** A table of plain rows (one object per row, the first row's keys as columns, in order). */
export function rowsTable(rows: Record<string, string | number>[]): aq.ColumnTable {
  return aq.from(rows);
}
