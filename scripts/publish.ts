/**
 * Published results: a paper-scale run's executed notebooks, kept in `notebooks/` with their
 * outputs so that a reader sees the study's numbers, tables and figures without running it.
 * A figure keeps its static PNG and its plain text and drops its interactive HTML (which carries
 * the 5 MB Plotly bundle); every other output is kept as it was. Markdown comes from the source
 * notebook; code must be the source's exactly, so that publishing never changes what runs.
 * Each published notebook records the run it comes from in `metadata.graph_mmm.run`.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { REPO_ROOT } from "../lib/study";

/** The run an executed notebook comes from. */
export interface RunRecord {
  scale: string;
  /** The checkout's commit when the run started (null outside a git checkout). */
  commit: string | null;
  /** Whether lib/, scripts/ or notebooks/ had uncommitted changes then (null: not known). */
  dirty: boolean | null;
  /** ISO times of the run's start and end. */
  started: string;
  finished: string;
  seconds: number;
  machine: string;
  /** "recorded" by the runner, or "inferred" from the executed copy's cell times and the git log (a copy made before runs were recorded). */
  source: "recorded" | "inferred";
}

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  [key: string]: unknown;
}
export interface NotebookJson {
  cells: Cell[];
  metadata: Record<string, unknown>;
  [key: string]: unknown;
}

const text = (s: string | string[]) => (Array.isArray(s) ? s.join("") : s);

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** The checkout's commit and whether the study's code has uncommitted changes. */
export function checkoutState(): { commit: string | null; dirty: boolean | null } {
  const commit = git(["rev-parse", "HEAD"]);
  if (commit === null) return { commit: null, dirty: null };
  const status = git(["status", "--porcelain", "--", "lib", "scripts", "notebooks", "package.json", "package-lock.json"]);
  return { commit, dirty: status === null ? null : status !== "" };
}

/** A one-line description of this machine, e.g. "2 x AMD EPYC, Node v22.1.0". */
export function machineLine(): string {
  const cores = cpus();
  return `${cores.length} x ${cores[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}`;
}

/** The record of a run that started at `started` from checkout state `state`. */
export function runRecord(scale: string, state: { commit: string | null; dirty: boolean | null }, started: Date, finished: Date): RunRecord {
  return {
    scale,
    ...state,
    started: started.toISOString(),
    finished: finished.toISOString(),
    seconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    machine: machineLine(),
    source: "recorded",
  };
}

export function readNotebook(file: string): NotebookJson {
  return JSON.parse(readFileSync(file, "utf8")) as NotebookJson;
}

/** `v` with every object's keys in sorted order, as nbformat writes them. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]),
  );
}

/** Writes a notebook as nbformat does (sorted keys, one-space indent, final newline), atomically. */
export function writeNotebook(file: string, nb: NotebookJson): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(sortedKeys(nb), null, 1) + "\n");
  renameSync(tmp, file);
}

/**
 * The run record of an executed copy made before the runner recorded runs: its start and end
 * from nbclient's cell times, its commit the last one before the start (dirty: not known).
 */
export function inferredRecord(file: string, nb: NotebookJson, scale: string): RunRecord {
  const times = nb.cells.flatMap((c) =>
    Object.values((c.metadata?.execution ?? {}) as Record<string, unknown>).filter((t): t is string => typeof t === "string"),
  );
  if (times.length === 0) throw new Error(`${file}: no cell times and no run record, so the run it comes from is not known`);
  const sorted = times.map((t) => new Date(t)).sort((a, b) => a.getTime() - b.getTime());
  const started = sorted[0];
  const commit = git(["log", "-1", `--before=${started.toISOString()}`, "--format=%H"]) || null;
  return { ...runRecord(scale, { commit, dirty: null }, started, sorted[sorted.length - 1]), source: "inferred" };
}

/** An output as published: a figure's interactive HTML dropped when a PNG stands for it. */
export function publishedOutput(o: Output): Output {
  if (!o.data || !("image/png" in o.data) || !("text/html" in o.data)) return o;
  const { "text/html": _html, ...data } = o.data;
  return { ...o, data };
}

/**
 * The published form of an executed copy: the source's cells with the executed copy's outputs,
 * execution counts and cell metadata, and the run's record. Throws when a code cell differs from
 * the source's, or the cells do not line up, naming the first one.
 */
export function publishedNotebook(executed: NotebookJson, source: NotebookJson, record: RunRecord, name = "notebook"): NotebookJson {
  if (executed.cells.length !== source.cells.length) {
    throw new Error(`${name}: the executed copy has ${executed.cells.length} cells, the source ${source.cells.length}: run it again`);
  }
  const cells = source.cells.map((src, k) => {
    const ran = executed.cells[k];
    if (ran.cell_type !== src.cell_type)
      throw new Error(`${name}: cell ${k + 1} is ${src.cell_type} in the source, ${ran.cell_type} in the executed copy: run it again`);
    if (src.cell_type !== "code") return src;
    if (text(ran.source) !== text(src.source)) throw new Error(`${name}: code cell ${k + 1} has changed since it was executed: run it again`);
    if (ran.execution_count == null) throw new Error(`${name}: code cell ${k + 1} did not run: only complete runs are published`);
    if ((ran.outputs ?? []).some((o) => o.output_type === "error")) throw new Error(`${name}: code cell ${k + 1} failed: only complete runs are published`);
    return { ...src, execution_count: ran.execution_count ?? null, metadata: ran.metadata ?? {}, outputs: (ran.outputs ?? []).map(publishedOutput) };
  });
  return { ...source, cells, metadata: { ...source.metadata, graph_mmm: { ...(source.metadata.graph_mmm as object | undefined), run: record } } };
}

/**
 * Publishes a paper-scale executed copy over its source notebook; returns the run's record and
 * the published size in bytes. A copy without a record (made before runs were recorded) gets an
 * inferred one.
 */
export function publishNotebook(executedFile: string, sourceFile: string): { record: RunRecord; bytes: number } {
  const executed = readNotebook(executedFile);
  const recorded = (executed.metadata.graph_mmm as { run?: RunRecord } | undefined)?.run;
  const record = recorded ?? inferredRecord(executedFile, executed, "paper");
  if (record.scale !== "paper") throw new Error(`${basename(executedFile)} was run at ${record.scale} scale: only paper-scale runs are published`);
  const nb = publishedNotebook(executed, readNotebook(sourceFile), record, basename(sourceFile));
  writeNotebook(sourceFile, nb);
  return { record, bytes: statSync(sourceFile).size };
}

const USAGE = `Usage: npm run publish [-- --only 04,05]    (or: node build/scripts/publish.js ...)

Publishes the executed paper-scale copies in build/notebooks/paper/ over their notebooks in
notebooks/: outputs kept, each figure as its static PNG (not the interactive HTML with the
Plotly bundle), markdown from the notebook as it is now, and the run's record (commit, times,
machine) in the notebook's metadata. A copy whose code differs from its notebook's is refused.
\`npm run study\` at paper scale does this after each notebook; this command is for copies
run one at a time (e.g. \`node build/scripts/study.js --scale paper --only 04\` before a fix
to the notebook's prose).

Options:
  --only 04,05            only the notebooks whose file name contains one of these words
  -h, --help              print this text and exit
`;

async function main(): Promise<number> {
  const { UsageError, listOption, parseCommandLine } = await import("./cli");
  const { listNotebooks } = await import("./notebooks");
  const { existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const args = parseCommandLine({ name: "publish", usage: USAGE, options: { only: { type: "string" } } as const });
  if (!args) return 0;
  const only = listOption(args.only) ?? [];
  const sources = listNotebooks(only).filter((f) => existsSync(join(REPO_ROOT, "build", "notebooks", "paper", basename(f))));
  if (sources.length === 0) throw new UsageError(`no executed paper-scale copy in build/notebooks/paper/${only.length ? ` for --only ${only.join(",")}` : ""}`);
  let failed = 0;
  for (const src of sources) {
    try {
      const { record, bytes } = publishNotebook(join(REPO_ROOT, "build", "notebooks", "paper", basename(src)), src);
      process.stdout.write(
        `published ${basename(src)} (${(bytes / 1024).toFixed(0)} KB): run ${record.started} at ${record.commit?.slice(0, 10) ?? "no commit"}` +
          `${record.dirty ? " with uncommitted changes" : ""}${record.source === "inferred" ? " (commit inferred from the cell times)" : ""}\n`,
      );
    } catch (err) {
      failed++;
      process.stderr.write(`publish: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main()
    .then((code) => process.exit(code))
    .catch(async (err: unknown) => {
      const { UsageError, reportUsageError } = await import("./cli");
      if (err instanceof UsageError) process.exit(reportUsageError("publish", err));
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    });
}
