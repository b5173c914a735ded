/**
 * The figures index: `README.md` in a figures folder, listing each figure (PNG and SVG of one
 * name) with its caption and the notebook that made it, then each CSV table with its columns,
 * row count and notebook. Captions and notebooks come from the sidecars that `exportFigure` and
 * `writeTable` write (lib/outputs.ts); an output without one is still listed.
 *
 * The index holds no dates, so that re-running an unchanged study leaves it unchanged (it is
 * kept in git).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type OutputMeta, sidecarPath } from "../outputs";
import { figuresDir } from "../study";
import { writeFileAtomic } from "./cache";

export interface FigureEntry {
  name: string;
  /** File names present in the folder, PNG first. */
  files: string[];
  caption: string | null;
  notebook: string | null;
}

export interface TableEntry {
  name: string;
  file: string;
  columns: string[];
  rows: number;
  caption: string | null;
  notebook: string | null;
}

export interface OutputListing {
  figures: FigureEntry[];
  tables: TableEntry[];
}

function readMeta(dir: string, type: OutputMeta["type"], name: string): Partial<OutputMeta> {
  const file = sidecarPath(dir, type, name);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Partial<OutputMeta>;
  } catch {
    return {};
  }
}

/** Header fields and number of data rows of CSV text (quoted fields may hold commas and newlines). */
export function csvShape(text: string): { columns: string[]; rows: number } {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let started = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') {
        field += '"';
        k++;
      } else if (c === '"') quoted = false;
      else field += c;
      continue;
    }
    if (c === '"') {
      quoted = true;
      started = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
      started = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[k + 1] === "\n") k++;
      if (started || field !== "") {
        record.push(field);
        records.push(record);
      }
      record = [];
      field = "";
      started = false;
    } else {
      field += c;
      started = true;
    }
  }
  if (started || field !== "") {
    record.push(field);
    records.push(record);
  }
  return { columns: records[0] ?? [], rows: Math.max(0, records.length - 1) };
}

/** The figures and tables in `dir`, sorted by name. */
export function listOutputs(dir: string): OutputListing {
  if (!existsSync(dir)) return { figures: [], tables: [] };
  const files = readdirSync(dir).filter((f) => !f.startsWith("."));
  const stems = new Map<string, string[]>();
  for (const f of files) {
    const m = /^(.+)\.(png|svg)$/i.exec(f);
    if (m) stems.set(m[1], [...(stems.get(m[1]) ?? []), f]);
  }
  const figures = [...stems.entries()].map(([name, fs]): FigureEntry => {
    const meta = readMeta(dir, "figure", name);
    // the PNG first, then the other files by name
    const sorted = fs.sort((a, b) => (a.toLowerCase().endsWith(".png") ? -1 : b.toLowerCase().endsWith(".png") ? 1 : a.localeCompare(b)));
    return { name, files: sorted, caption: meta.caption ?? null, notebook: meta.notebook ?? null };
  });
  const tables = files
    .filter((f) => /\.csv$/i.test(f))
    .map((file): TableEntry => {
      const name = file.slice(0, -4);
      const meta = readMeta(dir, "table", name);
      return { name, file, ...csvShape(readFileSync(join(dir, file), "utf8")), caption: meta.caption ?? null, notebook: meta.notebook ?? null };
    });
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { figures: figures.sort(byName), tables: tables.sort(byName) };
}

/** Text for a Markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, " ")
    .replace(/\|/g, "\\|")
    .trim();
}

/** A Markdown link target (names are file-name safe, but spaces would break the link). */
function href(file: string): string {
  return encodeURI(file);
}

/** The index's Markdown for a listing. */
export function figuresIndexMarkdown(listing: OutputListing, opts: { title?: string; note?: string } = {}): string {
  const lines = [`# ${opts.title ?? "Figures"}`, ""];
  lines.push(
    opts.note ??
      "Written by `npm run study` from the files in this folder: each figure is a PNG with an SVG of the same name, each table a CSV. " +
        "Regenerate them all with `npm run study`.",
    "",
  );
  lines.push(`## Figures (${listing.figures.length})`, "");
  if (listing.figures.length === 0) lines.push("None yet.", "");
  else {
    lines.push("| figure | caption | notebook |", "|---|---|---|");
    for (const f of listing.figures) {
      const link = (file: string, k: number) => (k === 0 ? `[${cell(f.name)}](${href(file)})` : `[${file.split(".").pop()!.toLowerCase()}](${href(file)})`);
      const links = f.files.map(link).join(" · ");
      lines.push(`| ${links} | ${f.caption ? cell(f.caption) : "*(no caption recorded)*"} | ${f.notebook ? `\`${cell(f.notebook)}\`` : "?"} |`);
    }
    lines.push("");
  }
  lines.push(`## Tables (${listing.tables.length})`, "");
  if (listing.tables.length === 0) lines.push("None yet.", "");
  else {
    lines.push("| table | columns | rows | notebook |", "|---|---|---|---|");
    for (const t of listing.tables) {
      const cols = t.columns.map((c) => `\`${cell(c).replace(/`/g, "'")}\``).join(", ");
      const caption = t.caption ? `: ${cell(t.caption)}` : "";
      lines.push(`| [${cell(t.name)}](${href(t.file)})${caption} | ${cols} | ${t.rows} | ${t.notebook ? `\`${cell(t.notebook)}\`` : "?"} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** Scans `dir` and writes `<dir>/README.md` atomically; returns its path and what it lists. */
export function writeFiguresIndex(dir: string = figuresDir(), opts: { title?: string; note?: string } = {}): { file: string; listing: OutputListing } {
  const listing = listOutputs(dir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "README.md");
  writeFileAtomic(file, figuresIndexMarkdown(listing, opts));
  return { file, listing };
}
