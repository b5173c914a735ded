/**
 * The one error type of the data layer: every loader and validator throws a `DataError` that
 * names the file, the column and the row (or line) of the bad input, so that a command-line
 * tool can print it as one line and a user can find the cell in an editor.
 */

/** Where in a file the problem is. Every field is optional; `file` is always set. */
export interface DataErrorLocation {
  /** The file (or a label such as `<panel>` for in-memory data). */
  file: string;
  /** The column (CSV), key (JSON) or node name the problem is in. */
  column?: string;
  /** 1-based data row (CSV: the header is row 0; the first record is row 1). */
  row?: number;
  /** 1-based physical line number in the file (differs from row + 1 with multi-line quoted cells). */
  line?: number;
}

/**
 * A bad-input error. `message` reads
 * `file: column "x", row 12 (line 13): what is wrong`, and the fields are kept for programs.
 */
export class DataError extends Error {
  readonly file: string;
  readonly column?: string;
  readonly row?: number;
  readonly line?: number;
  /** What is wrong, without the location prefix. */
  readonly detail: string;

  constructor(where: DataErrorLocation, detail: string) {
    super(`${formatLocation(where)}: ${detail}`);
    this.name = "DataError";
    this.file = where.file;
    this.column = where.column;
    this.row = where.row;
    this.line = where.line;
    this.detail = detail;
  }
}

/** `file: column "x", row 3 (line 4)`, omitting what is not known. */
export function formatLocation(where: DataErrorLocation): string {
  const parts: string[] = [];
  if (where.column !== undefined) parts.push(`column "${where.column}"`);
  if (where.row !== undefined) parts.push(`row ${where.row}` + (where.line !== undefined ? ` (line ${where.line})` : ""));
  else if (where.line !== undefined) parts.push(where.line === 1 ? "line 1 (header)" : `line ${where.line}`);
  return parts.length ? `${where.file}: ${parts.join(", ")}` : where.file;
}

/** Levenshtein edit distance (for "did you mean" suggestions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n];
}

/**
 * The candidate closest to `name` (case-insensitive edit distance), or undefined when nothing is
 * reasonably close (distance above half the name's length, at least 3).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(3, Math.ceil(name.length / 2)) ? best : undefined;
}

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const c = closestName(name, candidates);
  return c === undefined ? "" : `; did you mean "${c}"?`;
}
