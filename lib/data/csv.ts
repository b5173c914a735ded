/**
 * The bring-your-own-data path: long-format CSV panels and edge-list CSV graphs, read and
 * written, so that a panel of one's own enters the study through the same checks as the shipped
 * data. Every problem throws a `DataError` naming the file, the column and the data row (1-based,
 * the header is line 1) with its line number. The formats: {@link readPanelCsv} (panels and their
 * roles sidecar), {@link readGraphCsv} (graphs).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import * as aq from "arquero";
import type { Graph } from "../graph";
import { emptyGraph } from "../graph";
import { DataError, didYouMean } from "./errors";
import { type NodeRole, type Panel, type Provenance, validatePanel } from "./panel";

type ColumnTable = ReturnType<typeof aq.table>;
const op = aq.op;

// ---------------------------------------------------------------------------------------------
// Raw CSV text -> arquero table of strings, with the line of every data row
// ---------------------------------------------------------------------------------------------

/**
 * A parsed CSV file: an arquero table of string cells and the line number of each data row. The
 * table work (typed columns, grouping, ordering, window differences) is done with arquero: the
 * file is parsed with `autoType: false` (every cell a string), then each column is converted with
 * an explicit, strict type.
 */
export interface CsvTable {
  file: string;
  /** Every cell a string (arquero `autoType: false`). */
  table: ColumnTable;
  /** `lines[r - 1]` is the 1-based line on which data row r starts (the header is line 1). */
  lines: number[];
  /** Columns renamed after reading (new name -> name in the file), so that errors name the file's column. */
  originalNames?: Record<string, string>;
}

/**
 * Checks the record structure of CSV text (quote-aware): every record must have as many fields
 * as the header; a blank line inside the file or an unterminated quote is an error. Returns the
 * start line of each record (header first) and the text without a BOM and trailing line breaks.
 */
function scanCsv(text: string, file: string): { starts: number[]; text: string } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Line breaks at the very end of the file are not records.
  text = text.replace(/[\r\n]+$/, "");
  const starts: number[] = [];
  const counts: number[] = [];
  const empty: boolean[] = [];
  let line = 1;
  let fields = 1;
  let recStart = 1;
  let recChars = 0;
  let inQuotes = false;
  let fieldStart = true;
  let quoteLine = 0;
  const endRecord = () => {
    starts.push(recStart);
    counts.push(fields);
    empty.push(recChars === 0);
    fields = 1;
    recChars = 0;
    fieldStart = true;
  };
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (inQuotes) {
      if (ch === '"') {
        if (text[k + 1] === '"') k++;
        else inQuotes = false;
      } else if (ch === "\n") line++;
      continue;
    }
    if (ch === "\r" && text[k + 1] === "\n") continue;
    if (ch === "\n" || ch === "\r") {
      endRecord();
      line++;
      recStart = line;
      continue;
    }
    recChars++;
    if (ch === ",") {
      fields++;
      fieldStart = true;
      continue;
    }
    if (ch === '"' && fieldStart) {
      inQuotes = true;
      quoteLine = line;
    }
    fieldStart = false;
  }
  if (inQuotes) throw new DataError({ file, line: quoteLine }, "unterminated quoted cell");
  if (recChars > 0 || fields > 1) endRecord();
  const n = starts.length;
  if (n === 0) throw new DataError({ file }, "the file is empty (no header)");
  const width = counts[0];
  for (let r = 1; r < n; r++) {
    if (empty[r] && width > 1) throw new DataError({ file, row: r, line: starts[r] }, "blank line inside the file");
    if (counts[r] !== width) throw new DataError({ file, row: r, line: starts[r] }, `${counts[r]} cells, but the header has ${width} columns`);
  }
  return { starts, text };
}

/** Reads a CSV file into an arquero table of strings (see `CsvTable`). */
export function readCsvTable(file: string): CsvTable {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (e) {
    throw new DataError({ file }, `cannot read: ${(e as Error).message}`);
  }
  return parseCsvTable(raw, file);
}

/** Parses CSV text (see `readCsvTable`); `file` names it in errors. */
export function parseCsvTable(raw: string, file = "<csv>"): CsvTable {
  const { starts, text } = scanCsv(raw, file);
  const header = parseHeaderLine(text);
  const seen = new Map<string, number>();
  header.forEach((h, k) => {
    if (seen.has(h)) throw new DataError({ file, column: h, line: 1 }, `column name appears twice (columns ${seen.get(h)! + 1} and ${k + 1})`);
    seen.set(h, k);
  });
  const table = aq.fromCSV(text, { autoType: false });
  if (table.numRows() !== starts.length - 1) {
    throw new DataError({ file }, `internal: arquero read ${table.numRows()} rows, the structure check found ${starts.length - 1}`);
  }
  return { file, table, lines: starts.slice(1) };
}

/** The header's cell names (quote-aware). */
function parseHeaderLine(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (q) {
      if (ch === '"') {
        if (text[k + 1] === '"') {
          cur += '"';
          k++;
        } else q = false;
      } else cur += ch;
      continue;
    }
    if (ch === "\n" || ch === "\r") break;
    if (ch === ",") {
      out.push(cur);
      cur = "";
    } else if (ch === '"' && cur === "") q = true;
    else cur += ch;
  }
  out.push(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cell parsing
// ---------------------------------------------------------------------------------------------

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NAN_INF = /^[+-]?(nan|inf|infinity)$/i;
const INTEGER = /^-?(0|[1-9]\d*)$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const FLOAT32_MAX = 3.4028234663852886e38;

interface Cell {
  file: string;
  column: string;
  row: number;
  line: number;
}

function cellError(c: Cell, detail: string): DataError {
  return new DataError({ file: c.file, column: c.column, row: c.row, line: c.line }, detail);
}

/** A strict number: decimal or exponent notation, finite, within float32 range. */
function parseNumberCell(s: unknown, c: Cell): number {
  if (s === undefined || s === null || s === "") throw cellError(c, "empty cell (a number is required)");
  const str = String(s);
  if (NAN_INF.test(str.trim())) throw cellError(c, `"${str}" is NaN or infinite (values must be finite numbers)`);
  if (!NUMBER.test(str)) throw cellError(c, `"${str}" is not a number`);
  const x = Number(str);
  if (!Number.isFinite(x)) throw cellError(c, `"${str}" is infinite (values must be finite numbers)`);
  if (Math.abs(x) > FLOAT32_MAX) throw cellError(c, `"${str}" is outside the float32 range`);
  return x;
}

type TimeKind = "integer" | "date";

function timeKindOf(s: string): TimeKind | undefined {
  if (INTEGER.test(s)) return "integer";
  if (ISO_DATE.test(s)) return "date";
  return undefined;
}

/** Integer step, or day number of an ISO date. */
function parseTimeCell(s: unknown, kind: TimeKind, c: Cell): number {
  if (s === undefined || s === null || s === "") throw cellError(c, "empty time cell");
  const str = String(s);
  if (kind === "integer") {
    if (!INTEGER.test(str)) throw cellError(c, `"${str}" is not an integer time step (the first row's time is an integer)`);
    const v = Number(str);
    if (!Number.isSafeInteger(v)) throw cellError(c, `"${str}" is too large for a time step`);
    return v;
  }
  const m = ISO_DATE.exec(str);
  if (!m) throw cellError(c, `"${str}" is not an ISO date YYYY-MM-DD (the first row's time is a date)`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw cellError(c, `"${str}" is not a valid date`);
  return ms / 86400000;
}

function timeLabel(key: number, kind: TimeKind): string {
  return kind === "integer" ? String(key) : new Date(key * 86400000).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// Roles sidecar
// ---------------------------------------------------------------------------------------------

/** Which column is the target, which are channels and intermediates. */
export interface RolesSpec {
  target: string;
  channels: string[];
  intermediates?: string[];
}

/** The JSON sidecar `<file>.roles.json`: roles, and what the writer adds. */
export interface PanelSidecar extends RolesSpec {
  /** The panel's true graphs: the edge file (relative to the sidecar) and each unit's graph id. */
  truth?: {
    edges: string;
    /** Graph ids in order (ids of the edge file's `graph` column); absent: one graph. */
    graphs?: string[];
    /** Unit id -> graph id; absent when there is one graph. */
    graphOfUnit?: Record<string, string>;
  };
  provenance?: Provenance;
}

/** The sidecar path of a panel file: `<file>.roles.json`. */
export function sidecarPath(file: string): string {
  return `${file}.roles.json`;
}

/** Reads and checks a roles sidecar; errors name the sidecar and the key. */
export function readSidecar(file: string): PanelSidecar {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new DataError({ file }, `cannot read the roles JSON: ${(e as Error).message}`);
  }
  return checkSidecar(obj, file);
}

function checkSidecar(obj: unknown, file: string): PanelSidecar {
  const fail = (key: string, detail: string): never => {
    throw new DataError({ file, column: key }, detail);
  };
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return fail("(root)", "must be a JSON object");
  const o = obj as Record<string, unknown>;
  const known = ["target", "channels", "intermediates", "truth", "provenance"];
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(k, `unknown key${didYouMean(k, known)} (keys: ${known.join(", ")})`);
  checkRoles(o, (key, detail) => fail(key, detail));
  if (o.truth !== undefined) {
    const t = o.truth as Record<string, unknown>;
    if (typeof t !== "object" || t === null || typeof t.edges !== "string") fail("truth.edges", "must name the edge CSV file");
    if (t.graphs !== undefined && (!Array.isArray(t.graphs) || t.graphs.some((g) => typeof g !== "string"))) {
      fail("truth.graphs", "must be a list of graph ids (strings)");
    }
    const map = t.graphOfUnit;
    if (map !== undefined && (typeof map !== "object" || map === null || Object.values(map).some((g) => typeof g !== "string"))) {
      fail("truth.graphOfUnit", "must map unit ids to graph ids (strings)");
    }
  }
  if (o.provenance !== undefined) {
    const p = o.provenance as Record<string, unknown>;
    if (typeof p !== "object" || p === null || typeof p.generator !== "string" || typeof p.params !== "object") {
      fail("provenance", "must be {generator, params, ...}");
    }
  }
  return o as unknown as PanelSidecar;
}

function checkRoles(o: Record<string, unknown>, fail: (key: string, detail: string) => never): void {
  if (typeof o.target !== "string" || o.target === "") fail("target", "must be a column name (string)");
  if (!Array.isArray(o.channels) || o.channels.length === 0) fail("channels", "must be a non-empty list of column names");
  if (o.intermediates !== undefined && !Array.isArray(o.intermediates)) fail("intermediates", "must be a list of column names");
  const all = new Set<string>([o.target as string]);
  for (const key of ["channels", "intermediates"] as const) {
    ((o[key] as unknown[] | undefined) ?? []).forEach((n, k) => {
      if (typeof n !== "string" || n === "") fail(`${key}[${k}]`, "must be a column name (string)");
      if (all.has(n as string)) fail(`${key}[${k}]`, `"${n}" has two roles`);
      all.add(n as string);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Long CSV -> panel
// ---------------------------------------------------------------------------------------------

/** Options of `readPanelCsv` / `panelFromTable`. */
export interface CsvPanelOptions {
  /** Roles; default: read from the sidecar `<file>.roles.json`. */
  roles?: RolesSpec;
  /** Sidecar to read (default `<file>.roles.json` when it exists); false: do not read one. */
  sidecar?: string | false;
  unitColumn: string;
  timeColumn: string;
  /** Columns starting with this are context (`ctx_<name>` -> context name `<name>`). */
  contextPrefix: string;
  /** Columns that are neither node, unit, time nor context, and are deliberately not read. */
  ignoreColumns: string[];
  /** Minimum number of steps of every unit: the lag window plus the forecast horizon. */
  minSteps: number;
  /** Channel cells must be >= 0 (raw spend). */
  nonNegativeChannels: boolean;
  /** Units that do not cover the whole time axis: an error, or dropped (recorded in provenance). */
  incompleteUnits: "error" | "drop";
  /** The time step (integers: steps; dates: days); default the most common difference. */
  timeStep?: number;
  /** Edge CSV with the true graph(s); default: the sidecar's `truth.edges`, if any. */
  graphFile?: string;
  /** True graphs must be acyclic. */
  requireDag: boolean;
}

export const DEFAULT_CSV_PANEL_OPTIONS: CsvPanelOptions = {
  unitColumn: "unit",
  timeColumn: "time",
  contextPrefix: "ctx_",
  ignoreColumns: [],
  minSteps: 1,
  nonNegativeChannels: true,
  incompleteUnits: "error",
  requireDag: true,
};

/**
 * Reads a long-format CSV panel. Panel file (one row per unit and time step):
 *
 *     unit,time,<node columns...>,ctx_<name>...
 *
 * - `unit`: any non-empty string; units keep the order of their first row in the file.
 * - `time`: an integer step (`0`, `1`, ...) or an ISO date (`2021-01-25`); the panel's time step
 *   is the most common difference between consecutive times of a unit (or `timeStep`). Every
 *   unit must be contiguous (no gaps, no duplicates) and, since a panel is dense
 *   (`values: [units, steps, nodes]`), every unit must cover the same time axis; units that do
 *   not are an error unless `incompleteUnits: "drop"` asks to drop them (the dropped units are
 *   recorded in the provenance).
 * - node columns: numbers (finite, within float32 range); channel columns must be >= 0 (raw
 *   spend) unless `nonNegativeChannels: false`.
 * - `ctx_<name>` columns: context per unit, constant within a unit.
 *
 * Roles come from the caller (`roles`) or from the JSON sidecar `<file>.roles.json`:
 * `{"target": "...", "channels": [...], "intermediates": [...]}`, which the writer also fills
 * with the provenance and, for panels with true graphs, the edge file and each unit's graph.
 * Every column must be used (a node, the unit, the time or a context column) or be listed in
 * `ignoreColumns`: nothing is dropped or coerced silently.
 */
export function readPanelCsv(file: string, options: Partial<CsvPanelOptions> = {}): Panel {
  return panelFromTable(readCsvTable(file), options);
}

/** The table being read and how its errors name the file, column and row. */
interface TableReader {
  file: string;
  table: ColumnTable;
  opt: CsvPanelOptions;
  /** The file's name of a (possibly renamed) column. */
  orig: (column: string) => string;
  /** An error about a header cell. */
  header: (column: string, detail: string) => DataError;
  /** The location of a data cell (row 1-based). */
  cell: (column: string, row: number) => Cell;
}

/** Where the roles come from: the caller's `roles`, else the sidecar; also the sidecar itself (for truth and provenance). */
interface ResolvedRoles {
  scPath?: string;
  sidecar?: PanelSidecar;
  roles: RolesSpec;
  roleOf: Map<string, NodeRole>;
}

/** Reads the sidecar (when there is one) and checks the roles. */
function resolveRoles(file: string, opt: CsvPanelOptions): ResolvedRoles {
  const scPath = opt.sidecar === false ? undefined : (opt.sidecar ?? (existsSync(sidecarPath(file)) ? sidecarPath(file) : undefined));
  if (opt.sidecar !== undefined && opt.sidecar !== false && !existsSync(opt.sidecar)) {
    throw new DataError({ file: opt.sidecar }, "the roles sidecar does not exist");
  }
  const sidecar = scPath ? readSidecar(scPath) : undefined;
  let roles: RolesSpec;
  if (opt.roles) {
    checkRoles(opt.roles as unknown as Record<string, unknown>, (key, detail) => {
      throw new DataError({ file: `${file} (roles argument)`, column: key }, detail);
    });
    roles = opt.roles;
  } else if (sidecar) roles = sidecar;
  else {
    throw new DataError(
      { file },
      `no roles: pass options.roles or write ${basename(sidecarPath(file))} ({"target": ..., "channels": [...], "intermediates": [...]})`,
    );
  }
  const roleOf = new Map<string, NodeRole>();
  roleOf.set(roles.target, "target");
  roles.channels.forEach((n) => roleOf.set(n, "channel"));
  (roles.intermediates ?? []).forEach((n) => roleOf.set(n, "intermediate"));
  return { scPath, sidecar, roles, roleOf };
}

/** Checks that every column is used or ignored on purpose, and splits node from context columns (file order). */
function classifyColumns(rd: TableReader, roleOf: Map<string, NodeRole>): { nodeCols: string[]; ctxCols: string[] } {
  const { opt, header } = rd;
  const cols = rd.table.columnNames();
  for (const c of [opt.unitColumn, opt.timeColumn]) {
    if (!cols.includes(c)) throw header(c, `required column is missing${didYouMean(c, cols)}`);
  }
  for (const name of roleOf.keys()) {
    if (!cols.includes(name)) throw header(name, `column named in the roles (${roleOf.get(name)}) is not in the header${didYouMean(name, cols)}`);
  }
  for (const c of opt.ignoreColumns) if (!cols.includes(c)) throw header(c, `column listed in ignoreColumns is not in the header${didYouMean(c, cols)}`);
  const nodeCols: string[] = [];
  const ctxCols: string[] = [];
  for (const c of cols) {
    if (c === opt.unitColumn || c === opt.timeColumn || opt.ignoreColumns.includes(c)) continue;
    if (roleOf.has(c)) nodeCols.push(c);
    else if (c.startsWith(opt.contextPrefix) && c.length > opt.contextPrefix.length) ctxCols.push(c);
    else {
      throw header(
        c,
        `column is neither unit, time, a node named in the roles, nor context (${opt.contextPrefix}*)${didYouMean(c, [...roleOf.keys()])}; ` +
          "list it in ignoreColumns to leave it out on purpose",
      );
    }
  }
  return { nodeCols, ctxCols };
}

/** The table's cells converted with explicit types, row by row in file order. */
interface TypedColumns {
  units: string[];
  kind: TimeKind;
  /** Integer step, or day number of a date. */
  timeKey: Float64Array;
  /** Node and context columns as numbers. */
  numeric: Record<string, Float64Array>;
}

/** Converts the unit, time, node and context columns cell by cell (explicit types, no inference). */
function typedColumns(rd: TableReader, roleOf: Map<string, NodeRole>, numericCols: string[]): TypedColumns {
  const { opt, cell, table } = rd;
  const nRows = table.numRows();
  const unitStr = table.array(opt.unitColumn) as unknown as (string | undefined)[];
  const units: string[] = new Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const s = unitStr[r];
    if (s === undefined || s === null || s === "") throw cellError(cell(opt.unitColumn, r + 1), "empty unit id");
    units[r] = String(s);
  }
  const timeStr = table.array(opt.timeColumn) as unknown as (string | undefined)[];
  const kind = timeKindOf(String(timeStr[0] ?? ""));
  if (!kind) throw cellError(cell(opt.timeColumn, 1), `"${timeStr[0] ?? ""}" is neither an integer step nor an ISO date YYYY-MM-DD`);
  const timeKey = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) timeKey[r] = parseTimeCell(timeStr[r], kind, cell(opt.timeColumn, r + 1));
  const numeric: Record<string, Float64Array> = {};
  for (const c of numericCols) {
    const src = table.array(c) as unknown as (string | undefined)[];
    const out = new Float64Array(nRows);
    const nonNeg = opt.nonNegativeChannels && roleOf.get(c) === "channel";
    for (let r = 0; r < nRows; r++) {
      const x = parseNumberCell(src[r], cell(c, r + 1));
      if (nonNeg && x < 0) throw cellError(cell(c, r + 1), `negative spend ${src[r]} in a channel column (channels must be >= 0)`);
      out[r] = x;
    }
    numeric[c] = out;
  }
  return { units, kind, timeKey, numeric };
}

/** The rows sorted by unit (order of first appearance) and time, with the panel's time step. */
interface OrderedRows {
  /** The sorted arquero table (`__unit`, `__t`, `__row`, `__d`). */
  t: ColumnTable;
  step: number;
  sUnit: string[];
  sT: number[];
  /** 1-based data row of each sorted row. */
  sRow: number[];
}

/**
 * Orders the rows with arquero (units in order of first appearance, time ascending), rejects
 * duplicate (unit, time) pairs, takes the time step (`timeStep`, else the most common difference)
 * and rejects gaps and irregular times.
 */
function orderRows(rd: TableReader, typed: TypedColumns): OrderedRows {
  const { opt, cell } = rd;
  const { kind } = typed;
  const nRows = rd.table.numRows();
  const rowIdx = Int32Array.from({ length: nRows }, (_, r) => r + 1);
  let t = aq.table({ __unit: typed.units, __t: typed.timeKey, __row: rowIdx });
  t = t
    .groupby("__unit")
    .derive({ __first: op.min("__row") })
    .ungroup()
    .orderby("__first", "__t");
  const dup = t
    .groupby("__unit", "__t")
    .derive({ __n: op.count() })
    .ungroup()
    .filter((d: { __n: number }) => d.__n > 1)
    .orderby("__row");
  if (dup.numRows() > 0) {
    const rows = dup.array("__row") as unknown as number[];
    const u = (dup.array("__unit") as unknown as string[])[0];
    const key = (dup.array("__t") as unknown as number[])[0];
    const other = rows
      .slice(1)
      .find((_, k) => (dup.array("__unit") as unknown as string[])[k + 1] === u && (dup.array("__t") as unknown as number[])[k + 1] === key)!;
    throw cellError(cell(opt.timeColumn, other), `duplicate (unit, time) = ("${u}", ${timeLabel(key, kind)}): also on row ${rows[0]}`);
  }
  t = t
    .groupby("__unit")
    .derive({ __d: (d: { __t: number }) => d.__t - op.lag(d.__t) })
    .ungroup();
  const diffs = t
    .filter((d: { __d: number }) => !op.is_nan(d.__d))
    .groupby("__d")
    .count({ as: "__n" })
    .orderby(aq.desc("__n"), "__d");
  let step = opt.timeStep ?? (diffs.numRows() > 0 ? (diffs.array("__d") as unknown as number[])[0] : 1);
  if (!(step > 0)) step = 1;
  const sUnit = t.array("__unit") as unknown as string[];
  const sT = t.array("__t") as unknown as number[];
  const sRow = t.array("__row") as unknown as number[];
  const sD = t.array("__d") as unknown as number[];
  const stepName = kind === "integer" ? `${step}` : `${step} day(s)`;
  for (let k = 0; k < nRows; k++) {
    const d = sD[k];
    if (Number.isNaN(d) || d === step) continue;
    const where = cell(opt.timeColumn, sRow[k]);
    const prev = timeLabel(sT[k - 1], kind);
    const cur = timeLabel(sT[k], kind);
    if (d > step && d % step === 0) {
      throw cellError(where, `gap in time for unit "${sUnit[k]}": ${d / step - 1} missing step(s) between ${prev} and ${cur} (time step ${stepName})`);
    }
    throw cellError(where, `irregular time for unit "${sUnit[k]}": ${prev} -> ${cur} is not a multiple of the time step ${stepName}`);
  }
  return { t, step, sUnit, sT, sRow };
}

/** The common time axis and the units kept on it. */
interface TimeAxis {
  tMin: number;
  /** Number of steps of the axis. */
  T: number;
  /** Ids of the kept units, in order of first appearance. */
  keptIds: string[];
  /** Units dropped (`incompleteUnits: "drop"`), recorded in the provenance. */
  dropped: { unit: string; from: string; to: string; steps: number }[];
}

/** Per-unit coverage: the time axis, the units dropped or rejected for not covering it, the minimum length. */
function timeAxis(rd: TableReader, rows: OrderedRows, kind: TimeKind): TimeAxis {
  const { opt, cell } = rd;
  const { step } = rows;
  const per = rows.t
    .groupby("__unit")
    .rollup({ n: op.count(), tmin: op.min("__t"), tmax: op.max("__t"), first: op.min("__row") })
    .orderby("first");
  const uIds = per.array("__unit") as unknown as string[];
  const uN = per.array("n") as unknown as number[];
  const uMin = per.array("tmin") as unknown as number[];
  const uMax = per.array("tmax") as unknown as number[];
  const uFirst = per.array("first") as unknown as number[];
  const tMin = Math.min(...uMin);
  const tMax = Math.max(...uMax);
  const T = Math.round((tMax - tMin) / step) + 1;
  const complete = uIds.map((_, k) => uMin[k] === tMin && uMax[k] === tMax);
  const dropped: TimeAxis["dropped"] = [];
  const keep: number[] = [];
  uIds.forEach((id, k) => {
    if (complete[k] || opt.incompleteUnits === "error") keep.push(k);
    else dropped.push({ unit: id, from: timeLabel(uMin[k], kind), to: timeLabel(uMax[k], kind), steps: uN[k] });
  });
  if (keep.length === 0) {
    throw new DataError(
      { file: rd.file, column: rd.orig(opt.unitColumn) },
      `no unit covers the whole time axis ${timeLabel(tMin, kind)}..${timeLabel(tMax, kind)}`,
    );
  }
  for (const k of keep) {
    if (uN[k] < opt.minSteps) {
      throw cellError(
        cell(opt.timeColumn, uFirst[k]),
        `unit "${uIds[k]}" has ${uN[k]} steps, fewer than the required minimum ${opt.minSteps} (lag window + horizon)`,
      );
    }
  }
  for (const k of keep) {
    if (!complete[k]) {
      throw cellError(
        cell(opt.timeColumn, uFirst[k]),
        `unit "${uIds[k]}" covers ${timeLabel(uMin[k], kind)}..${timeLabel(uMax[k], kind)} (${uN[k]} steps), ` +
          `the panel's time axis is ${timeLabel(tMin, kind)}..${timeLabel(tMax, kind)} (${T} steps); ` +
          'a panel is dense, so pass incompleteUnits: "drop" to drop such units explicitly',
      );
    }
  }
  return { tMin, T, keptIds: keep.map((k) => uIds[k]), dropped };
}

/** Dense values `[units, steps, nodes]` and context `[units, k]`, checking that context is constant within a unit. */
function denseValues(
  rd: TableReader,
  rows: OrderedRows,
  axis: TimeAxis,
  columns: { nodeCols: string[]; ctxCols: string[]; numeric: TypedColumns["numeric"] },
): {
  values: Float32Array;
  ctx: Float32Array;
} {
  const { nodeCols, ctxCols, numeric } = columns;
  const { sUnit, sT, sRow, step } = rows;
  const { T, tMin } = axis;
  const nRows = rd.table.numRows();
  const R = axis.keptIds.length;
  const N = nodeCols.length;
  const unitPos = new Map<string, number>(axis.keptIds.map((id, p) => [id, p]));
  const values = new Float32Array(R * T * N);
  const K = ctxCols.length;
  const ctx = new Float32Array(R * K);
  const ctxFirstRow = new Int32Array(R).fill(0);
  for (let k = 0; k < nRows; k++) {
    const p = unitPos.get(sUnit[k]);
    if (p === undefined) continue; // a dropped unit (recorded in provenance)
    const r0 = sRow[k] - 1;
    const step_ = Math.round((sT[k] - tMin) / step);
    const base = (p * T + step_) * N;
    for (let i = 0; i < N; i++) values[base + i] = numeric[nodeCols[i]][r0];
    if (ctxFirstRow[p] === 0) {
      ctxFirstRow[p] = sRow[k];
      for (let c = 0; c < K; c++) ctx[p * K + c] = numeric[ctxCols[c]][r0];
    } else {
      for (let c = 0; c < K; c++) {
        const x = numeric[ctxCols[c]][r0];
        if (Math.fround(x) !== ctx[p * K + c]) {
          throw cellError(
            rd.cell(ctxCols[c], sRow[k]),
            `context must be constant within a unit: unit "${sUnit[k]}" has ${x} here and ${ctx[p * K + c]} on row ${ctxFirstRow[p]}`,
          );
        }
      }
    }
  }
  return { values, ctx };
}

/** The true graphs: `graphFile`, else the sidecar's `truth.edges`; several graphs need the sidecar's `truth.graphOfUnit`. */
function readTruth(opt: CsvPanelOptions, rr: ResolvedRoles, nodeCols: string[], keptIds: string[]): Panel["truth"] {
  const { sidecar, scPath } = rr;
  const graphFile = opt.graphFile ?? (sidecar?.truth && scPath ? resolve(dirname(scPath), sidecar.truth.edges) : undefined);
  if (!graphFile) return undefined;
  const gs = readGraphCsv(graphFile, nodeCols, { requireDag: opt.requireDag, graphIds: opt.graphFile ? undefined : sidecar?.truth?.graphs });
  if (gs.graphs.length === 1) return { graphs: gs.graphs, graphOfUnit: keptIds.map(() => 0) };
  const map = sidecar?.truth?.graphOfUnit;
  if (!map) throw new DataError({ file: graphFile, column: "graph" }, `${gs.graphs.length} graphs, but no sidecar truth.graphOfUnit says which unit has which`);
  const byId = new Map(gs.ids.map((id, g) => [id, g]));
  return {
    graphs: gs.graphs,
    graphOfUnit: keptIds.map((id) => {
      const gid = map[id];
      if (gid === undefined) throw new DataError({ file: scPath!, column: "truth.graphOfUnit" }, `no graph for unit "${id}"`);
      const g = byId.get(gid);
      if (g === undefined) {
        throw new DataError({ file: scPath!, column: "truth.graphOfUnit" }, `unit "${id}" has graph "${gid}", which ${graphFile} does not define`);
      }
      return g;
    }),
  };
}

/**
 * Builds a panel from a parsed CSV table (after any arquero renaming or column selection, which
 * must keep the rows in file order so that errors can name lines). The steps, each of which
 * throws a `DataError` at the first problem: roles, columns, typed cells, row order and time
 * step, the common time axis, dense values and context, true graphs, provenance.
 */
export function panelFromTable(csv: CsvTable, options: Partial<CsvPanelOptions> = {}): Panel {
  const opt: CsvPanelOptions = { ...DEFAULT_CSV_PANEL_OPTIONS, ...options };
  const { file, lines, table } = csv;
  const orig = (c: string) => csv.originalNames?.[c] ?? c;
  const rd: TableReader = {
    file,
    table,
    opt,
    orig,
    header: (column, detail) => new DataError({ file, column: orig(column), line: 1 }, detail),
    cell: (column, row) => ({ file, column: orig(column), row, line: lines[row - 1] }),
  };

  const rr = resolveRoles(file, opt);
  const { nodeCols, ctxCols } = classifyColumns(rd, rr.roleOf);
  if (table.numRows() === 0) throw new DataError({ file, line: 2 }, "no data rows");
  const typed = typedColumns(rd, rr.roleOf, [...nodeCols, ...ctxCols]);
  const { kind } = typed;
  const rows = orderRows(rd, typed);
  const axis = timeAxis(rd, rows, kind);
  const { step } = rows;
  const { T, tMin, keptIds } = axis;
  const { values, ctx } = denseValues(rd, rows, axis, { nodeCols, ctxCols, numeric: typed.numeric });
  const labels = Array.from({ length: T }, (_, s) => timeLabel(tMin + s * step, kind));
  const defaultAxis = kind === "integer" && tMin === 0 && step === 1;
  const truth = readTruth(opt, rr, nodeCols, keptIds);

  const { sidecar, roles, roleOf } = rr;
  const readStep = {
    op: "readPanelCsv",
    args: {
      file,
      unitColumn: opt.unitColumn,
      timeColumn: opt.timeColumn,
      timeStep: step,
      incompleteUnits: opt.incompleteUnits,
      droppedUnits: axis.dropped,
      ignoredColumns: opt.ignoreColumns,
    },
  };
  const provenance: Provenance = sidecar?.provenance
    ? { ...sidecar.provenance, source: file, history: [...(sidecar.provenance.history ?? []), readStep] }
    : { generator: "csv", params: { ...readStep.args, roles }, source: file };
  const panel: Panel = {
    values,
    units: keptIds.length,
    steps: T,
    nodes: nodeCols.length,
    nodeNames: nodeCols,
    roles: nodeCols.map((c) => roleOf.get(c)!),
    unitIds: keptIds,
    provenance,
  };
  if (!defaultAxis) panel.timeLabels = labels;
  if (ctxCols.length > 0) panel.context = { values: ctx, names: ctxCols.map((c) => c.slice(opt.contextPrefix.length)) };
  if (truth) panel.truth = truth;
  return validatePanel(panel, { requireDag: opt.requireDag, nonNegativeChannels: opt.nonNegativeChannels, minSteps: opt.minSteps });
}

// ---------------------------------------------------------------------------------------------
// Edge-list CSV -> graphs
// ---------------------------------------------------------------------------------------------

/** Options of `readGraphCsv`. */
export interface GraphCsvOptions {
  /** Every graph must be acyclic (default true). */
  requireDag: boolean;
  /** Graph ids in order (the `graph` column); default: order of first appearance. */
  graphIds?: string[];
}

/** Graphs read from an edge file: `graphs[g]` has id `ids[g]` (`""` for a file without a `graph` column). */
export interface GraphSet {
  graphs: Graph[];
  ids: string[];
}

/**
 * Reads an edge-list CSV over the given node names. Graph file: `source,target` (one row per edge
 * j -> i), or `graph,source,target` for several graphs. Node names must be the panel's;
 * self-loops, duplicate edges and (when a DAG is required) cycles are errors.
 */
export function readGraphCsv(file: string, nodeNames: readonly string[], options: Partial<GraphCsvOptions> = {}): GraphSet {
  const opt = { requireDag: true, ...options };
  const { table, lines } = readCsvTable(file);
  const cols = table.columnNames();
  const multi = cols.includes("graph");
  const allowed = multi ? ["graph", "source", "target"] : ["source", "target"];
  for (const c of ["source", "target"]) {
    if (!cols.includes(c)) {
      throw new DataError({ file, column: c, line: 1 }, `required column is missing${didYouMean(c, cols)}`);
    }
  }
  for (const c of cols) {
    if (!allowed.includes(c)) {
      throw new DataError({ file, column: c, line: 1 }, `unexpected column${didYouMean(c, allowed)} (an edge file has source,target and optionally graph)`);
    }
  }
  const N = nodeNames.length;
  const pos = new Map(nodeNames.map((n, k) => [n, k]));
  const ids: string[] = opt.graphIds ? [...opt.graphIds] : [];
  const idPos = new Map(ids.map((id, g) => [id, g]));
  const graphs: Graph[] = ids.map(() => emptyGraph(N));
  const edgeRow: Map<string, number>[] = ids.map(() => new Map());
  if (!multi && ids.length === 0) {
    ids.push("");
    idPos.set("", 0);
    graphs.push(emptyGraph(N));
    edgeRow.push(new Map());
  }
  const src = table.array("source") as unknown as string[];
  const dst = table.array("target") as unknown as string[];
  const gcol = multi ? (table.array("graph") as unknown as string[]) : undefined;
  for (let r = 1; r <= table.numRows(); r++) {
    const where = (column: string) => ({ file, column, row: r, line: lines[r - 1] });
    let g = 0;
    if (gcol) {
      const id = gcol[r - 1];
      if (id === undefined || id === null || id === "") throw new DataError(where("graph"), "empty graph id");
      let gi = idPos.get(id);
      if (gi === undefined) {
        if (opt.graphIds) throw new DataError(where("graph"), `graph "${id}" is not one of the declared graphs ${opt.graphIds.join(", ")}`);
        gi = ids.length;
        ids.push(id);
        idPos.set(id, gi);
        graphs.push(emptyGraph(N));
        edgeRow.push(new Map());
      }
      g = gi;
    } else if (ids.length !== 1) {
      throw new DataError({ file, column: "graph", line: 1 }, `${ids.length} graphs were declared, but the file has no graph column`);
    }
    const node = (column: "source" | "target", s: string): number => {
      if (s === undefined || s === null || s === "") throw new DataError(where(column), "empty node name");
      const k = pos.get(s);
      if (k === undefined) throw new DataError(where(column), `unknown node "${s}"${didYouMean(s, nodeNames)} (nodes: ${nodeNames.join(", ")})`);
      return k;
    };
    const j = node("source", src[r - 1]);
    const i = node("target", dst[r - 1]);
    if (i === j) throw new DataError(where("target"), `self-loop ${nodeNames[j]} -> ${nodeNames[i]}: a node's own past is always available and is not an edge`);
    const key = `${j},${i}`;
    const before = edgeRow[g].get(key);
    if (before !== undefined) throw new DataError(where("target"), `duplicate edge ${nodeNames[j]} -> ${nodeNames[i]} (also on row ${before})`);
    edgeRow[g].set(key, r);
    if (opt.requireDag && reaches(graphs[g], i, j)) {
      const path = pathBetween(graphs[g], i, j)!;
      throw new DataError(
        where("target"),
        `edge ${nodeNames[j]} -> ${nodeNames[i]} closes a cycle ${[j, ...path].map((k) => nodeNames[k]).join(" -> ")}, but a DAG is required`,
      );
    }
    graphs[g][j][i] = 1;
  }
  return { graphs, ids };
}

function reaches(g: Graph, from: number, to: number): boolean {
  return pathBetween(g, from, to) !== undefined;
}

/** A directed path from -> ... -> to (node list), or undefined. */
function pathBetween(g: Graph, from: number, to: number): number[] | undefined {
  const prev = new Map<number, number>([[from, -1]]);
  const queue = [from];
  while (queue.length) {
    const u = queue.shift()!;
    if (u === to) {
      const path = [u];
      let p = prev.get(u)!;
      while (p !== -1) {
        path.unshift(p);
        p = prev.get(p)!;
      }
      return path;
    }
    for (let v = 0; v < g.length; v++)
      if (v !== u && g[u][v] && !prev.has(v)) {
        prev.set(v, u);
        queue.push(v);
      }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

/**
 * The shortest decimal that reads back (through `Math.fround`) to the same float32 value as
 * `x`: at most 9 significant digits, so writing a float32 panel and reading it loses nothing.
 */
export function formatFloat32(x: number): string {
  const f = Math.fround(x);
  if (Object.is(f, -0)) return "-0";
  if (Number.isInteger(f) && Math.abs(f) < 1e21) return String(f);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return trimNumber(s);
  }
  return String(f);
}

/** Drops trailing zeros of a toPrecision string ("1.500" -> "1.5", "1.20e+5" -> "1.2e+5"). */
function trimNumber(s: string): string {
  const [m, e] = s.split("e");
  const mm = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
  return e === undefined ? mm : `${mm}e${e}`;
}

/**
 * One CSV field (RFC 4180): a field holding a comma, a double quote, CR or LF is wrapped in
 * double quotes with its quotes doubled; so is one with blank space at either end, which some
 * readers (spreadsheets, trimming parsers) would otherwise drop. Anything else is written as is.
 */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What a writer wrote. */
export interface WrittenPanelFiles {
  csv: string;
  sidecar: string;
  /** The edge file, when the panel has true graphs. */
  edges?: string;
}

/** Options of `writePanelCsv`. */
export interface WritePanelCsvOptions {
  /** Edge file for the true graphs (default `<file without .csv>.edges.csv`); false: none. */
  edges?: string | false;
}

/**
 * Writes a panel as a long CSV (`unit,time,<nodes>,ctx_<names>`), its sidecar
 * `<file>.roles.json` (roles, provenance, truth) and, when it has true graphs, an edge CSV.
 * Values are written with `formatFloat32`: `readPanelCsv` returns the same panel.
 */
export function writePanelCsv(panel: Panel, file: string, options: WritePanelCsvOptions = {}): WrittenPanelFiles {
  validatePanel(panel);
  const N = panel.nodes;
  const ctxNames = panel.context?.names ?? [];
  const K = ctxNames.length;
  const head = ["unit", "time", ...panel.nodeNames, ...ctxNames.map((c) => `ctx_${c}`)];
  for (const h of head.slice(2)) {
    if (h === "unit" || h === "time") {
      throw new Error(`writePanelCsv: a node or context is called "${h}", which is a reserved column`);
    }
  }
  const labels = panel.timeLabels ?? Array.from({ length: panel.steps }, (_, t) => String(t));
  const out: string[] = [head.map(csvField).join(",")];
  for (let u = 0; u < panel.units; u++) {
    const id = csvField(panel.unitIds[u]);
    const ctx = Array.from({ length: K }, (_, c) => formatFloat32(panel.context!.values[u * K + c]));
    for (let t = 0; t < panel.steps; t++) {
      const row = [id, csvField(labels[t])];
      const base = (u * panel.steps + t) * N;
      for (let i = 0; i < N; i++) row.push(formatFloat32(panel.values[base + i]));
      out.push(row.concat(ctx).join(","));
    }
  }
  writeFileSync(file, out.join("\n") + "\n");
  const byRole = (r: NodeRole) => panel.nodeNames.filter((_, i) => panel.roles[i] === r);
  const sidecar: PanelSidecar = {
    target: byRole("target")[0],
    channels: byRole("channel"),
    intermediates: byRole("intermediate"),
    provenance: panel.provenance,
  };
  const written: WrittenPanelFiles = { csv: file, sidecar: sidecarPath(file) };
  if (panel.truth && options.edges !== false) {
    const edges = options.edges ?? file.replace(/\.csv$/i, "") + ".edges.csv";
    const multi = panel.truth.graphs.length > 1;
    writeGraphCsv(panel.truth.graphs, panel.nodeNames, edges);
    sidecar.truth = { edges: relativeTo(dirname(resolve(sidecarPath(file))), resolve(edges)) };
    if (multi) {
      sidecar.truth.graphs = panel.truth.graphs.map((_, g) => String(g));
      sidecar.truth.graphOfUnit = Object.fromEntries(panel.unitIds.map((id, u) => [id, String(panel.truth!.graphOfUnit[u])]));
    }
    written.edges = edges;
  }
  writeFileSync(sidecarPath(file), JSON.stringify(sidecar, null, 1) + "\n");
  return written;
}

function relativeTo(dir: string, target: string): string {
  return dirname(target) === dir ? basename(target) : target;
}

/**
 * Writes one graph (`source,target`) or several (`graph,source,target`, ids 0..K-1) as an edge
 * CSV, one row per edge `G[j][i] = 1` in row-major (j, i) order.
 */
export function writeGraphCsv(graphs: Graph | Graph[], nodeNames: readonly string[], file: string): string {
  const list: Graph[] = isGraphList(graphs) ? graphs : [graphs];
  const multi = list.length > 1;
  const out = [multi ? "graph,source,target" : "source,target"];
  list.forEach((g, k) => {
    if (g.length !== nodeNames.length) throw new Error(`writeGraphCsv: graph ${k} has ${g.length} rows, ${nodeNames.length} node names given`);
    for (let j = 0; j < g.length; j++) {
      for (let i = 0; i < g.length; i++) {
        if (i === j || !g[j][i]) continue;
        const e = `${csvField(nodeNames[j])},${csvField(nodeNames[i])}`;
        out.push(multi ? `${k},${e}` : e);
      }
    }
  });
  writeFileSync(file, out.join("\n") + "\n");
  return file;
}

function isGraphList(g: Graph | Graph[]): g is Graph[] {
  return g.length > 0 && Array.isArray(g[0]) && Array.isArray((g[0] as unknown[])[0]);
}
