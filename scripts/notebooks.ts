/**
 * The notebook runner: executes notebooks in `notebooks/` in order through the real Jupyter
 * stack (nbclient + the tslab kernel registered by scripts/setup.mjs), at a chosen scale.
 *
 * Executed copies go to `build/notebooks/<scale>/`. A failing cell stops the run with the
 * notebook's name, the cell's number, its first line and the error.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO_ROOT, figuresDir, type Scale } from "../lib/study";
import { type RunRecord, checkoutState, machineLine, publishNotebook } from "./publish";

export interface NotebookRunOptions {
  scale: Scale;
  /** Only notebooks whose file name contains one of these words (all when empty). */
  only?: string[];
  /** Where executed copies go; default `build/notebooks/<scale>`. */
  outDir?: string;
  /** Where figures go; default the scale's figures folder. */
  figuresDir?: string;
  /** Seconds one cell may run. */
  cellTimeout?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * After each notebook, publish its executed copy over the source notebook (scripts/publish.ts:
   * outputs kept, figures as PNG); only at paper scale. Default false.
   */
  publish?: boolean;
  /** The checkout's commit and state recorded with the run; default read when the notebook starts ({@link runNotebooks} reads it once, before the first). */
  checkout?: { commit: string | null; dirty: boolean | null };
}

export interface NotebookRun {
  notebook: string;
  output: string;
  seconds: number;
}

export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    readonly cell: number,
    readonly ename: string,
    readonly evalue: string,
    readonly output: string,
  ) {
    super(`notebook ${notebook}, cell ${cell} failed: ${ename}: ${evalue} (executed copy: ${output})`);
  }
}

/** What scripts/setup.mjs found or installed (build/environment.json). */
export interface Environment {
  python: string;
  /** The checkout's own Jupyter path (JUPYTER_PATH), holding the tslab kernel spec. */
  jupyterPath: string;
  /** The notebook server's data folder (JUPYTER_DATA_DIR), where notebook signatures live. */
  jupyterData: string;
  chromium: string | null;
  /** The notebook UI: JupyterLab or the classic Notebook, and the Python that runs it. */
  ui: { python: string; kind: "lab" | "notebook" } | null;
}

export function environment(): Environment {
  const file = join(REPO_ROOT, "build", "environment.json");
  if (!existsSync(file)) throw new Error("build/environment.json is missing: run `node scripts/setup.mjs` first");
  return JSON.parse(readFileSync(file, "utf8")) as Environment;
}

/** The notebooks of the study, in order (file names sort by their number prefix). */
export function listNotebooks(only: string[] = []): string[] {
  const dir = join(REPO_ROOT, "notebooks");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .filter((f) => only.length === 0 || only.some((w) => f.includes(w)))
    .sort()
    .map((f) => join(dir, f));
}

/** Executes one notebook; rejects with a {@link NotebookError} when a cell fails. */
export function runNotebook(path: string, opts: NotebookRunOptions): Promise<NotebookRun> {
  const env = environment();
  const outDir = opts.outDir ?? join(REPO_ROOT, "build", "notebooks", opts.scale);
  const output = join(outDir, basename(path));
  // a cell's time limit catches a hung kernel; notebook 09's recovery cell alone runs over an hour at paper scale on 2 cores
  const timeout = opts.cellTimeout ?? (opts.scale === "paper" ? 4 * 3600 : 900);
  const started = Date.now();
  // the run's record without its end; execute_notebook.py completes it before signing the copy
  const record = {
    scale: opts.scale,
    ...(opts.checkout ?? checkoutState()),
    started: new Date(started).toISOString(),
    machine: machineLine(),
    source: "recorded",
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      env.python,
      [join(REPO_ROOT, "scripts", "execute_notebook.py"), path, output, String(timeout), ...(env.jupyterData ? [env.jupyterData] : [])],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          JUPYTER_PATH: env.jupyterPath,
          PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
          STUDY_SCALE: opts.scale,
          STUDY_NOTEBOOK: basename(path),
          STUDY_FIGURES_DIR: opts.figuresDir ?? figuresDir(opts.scale),
          STUDY_RUN_RECORD: JSON.stringify(record),
          PYDEVD_DISABLE_FILE_VALIDATION: "1",
        },
        stdio: ["ignore", "inherit", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (Date.now() - started) / 1000;
      if (code === 0) return resolvePromise({ notebook: basename(path), output, seconds });
      const line = stderr
        .trim()
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("{"));
      if (line) {
        const e = JSON.parse(line) as { cell: number; ename: string; evalue: string };
        return reject(new NotebookError(basename(path), e.cell, e.ename, e.evalue, output));
      }
      reject(new Error(`notebook ${basename(path)}: Jupyter exited with ${code}\n${stderr.slice(-4000)}`));
    });
  });
}

/** Executes the notebooks in order; stops at the first failure. */
export async function runNotebooks(opts: NotebookRunOptions): Promise<NotebookRun[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const runs: NotebookRun[] = [];
  // read once: publishing a notebook changes notebooks/, which is not a change of the code that runs
  const checkout = opts.checkout ?? checkoutState();
  for (const nb of listNotebooks(opts.only)) {
    log(`[notebooks] ${basename(nb)} (${opts.scale}) ...`);
    const run = await runNotebook(nb, { ...opts, checkout });
    log(`[notebooks] ${run.notebook} done in ${run.seconds.toFixed(1)} s -> ${run.output}`);
    if (opts.publish) {
      if (opts.scale !== "paper") throw new Error(`only paper-scale runs are published, not ${opts.scale}`);
      const { bytes } = publishNotebook(run.output, nb);
      log(`[notebooks] published ${basename(nb)} with its outputs (${(bytes / 1024).toFixed(0)} KB)`);
    }
    runs.push(run);
  }
  return runs;
}
