/**
 * `npm run bench`: epoch time of CausalMMM on the external CausalMMM data (240 training units,
 * T = 100, the official 80/20 unit split) at the official configuration (hidden 256, horizon 10)
 * and at the project's default (hidden 64), for each available backend and with one or two
 * gradient workers. Each configuration runs in its own process (so that its peak memory is its
 * own); the first epoch is a warm-up and is reported apart; the table gives the median of the
 * timed epochs. With `--official PATH` (a checkout of the official CausalMMM code) it also runs
 * that code on the same machine in the same run, at its own configuration, and reports each case's
 * speed as the ratio of the two medians measured here ({@link runOfficial}). Writes
 * build/bench/causalmmm-epoch.json. The options are in {@link USAGE} (`--help`).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type BackendName, initBackend } from "../lib/backend";
import { type MatMulName, matMulAddonPath } from "../lib/native-matmul";
import { applyScaler, fitScaler, splitUnits } from "../lib/data/panel";
import { loadCausalMMMSim } from "../lib/data/causalmmm";
import { CAUSALMMM_DEFAULTS, CAUSALMMM_OFFICIAL, CausalMMM } from "../lib/models/causalmmm";
import { REPO_ROOT } from "../lib/study";
import { environment } from "./notebooks";
import { shuffledUnitBatches } from "../lib/train/batches";
import { fit } from "../lib/train/fit";
import { UsageError, choiceListOption, listOption, parseCommandLine, positiveIntOption, reportUsageError } from "./cli";

const USAGE = `Usage: npm run bench [-- options]    (or: node build/scripts/bench.js [options])

Times CausalMMM epochs on the external CausalMMM data (240 training units) at the official
configuration (hidden 256) and the project's default (hidden 64), per backend and number of
gradient workers, each case in its own process, and writes build/bench/causalmmm-epoch.json.
Timings are only meaningful on an otherwise idle machine: the load average before and after
each case is recorded with it. Options take "--name value" or "--name=value".

Options:
  --epochs N              timed epochs after the warm-up (default 3; 1 with --quick; at most 2
                          on the cpu backend)
  --quick                 32 units and fewer epochs, for a check that it runs
  --backends wasm,cpu     backends among tensorflow, wasm, cpu (default: every one that loads)
  --presets official,default   configurations (default: both)
  --workers 1,2           gradient worker counts (default: 1,2)
  --threads 1,2           wasm kernel threads of the training thread (default: 1; each further
                          gradient worker runs one); a case per (workers, threads) pair that
                          needs no more threads than the cores
  --matmul wasm,blas      the wasm backend's matrix products: its own kernel, OpenBLAS through
                          the native addon (scripts/setup.mjs builds it when it can), or both
                          (default: both when the addon is built, else wasm)
  --official PATH         a checkout of the official CausalMMM code (github.com/ChaunceyKung/CausalMMM):
                          run it here too, before our cases, at its own configuration for the same
                          number of epochs (PyTorch, scikit-learn, pandas and matplotlib: the
                          first of $CAUSALMMM_PYTHON, set-up's Python, /usr/bin/python3 and
                          python3 that has them), and report each case as a ratio of the two
                          medians (default:
                          $CAUSALMMM_OFFICIAL; without it only our times are reported)
  -h, --help              print this text and exit

Example:
  npm run bench -- --quick --backends=wasm --presets default --workers 1
`;

const OPTIONS = {
  epochs: { type: "string" },
  quick: { type: "boolean" },
  backends: { type: "string" },
  presets: { type: "string" },
  workers: { type: "string" },
  threads: { type: "string" },
  matmul: { type: "string" },
  official: { type: "string" },
  /** Internal: one case as JSON, run by the parent in a child process. */
  child: { type: "string", internal: true },
} as const;

const BACKENDS: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];
const PRESETS = ["official", "default"] as const;
const MATMULS: readonly MatMulName[] = ["wasm", "blas"];

/** The official code's epochs, timed in this run (or why they were not). */
interface OfficialRun {
  path: string | null;
  /** Training seconds of each epoch, the warm-up first (from the code's own log). */
  epochSeconds: number[];
  medianSeconds: number;
  /** The Python that ran it and PyTorch's intra-op thread count there (null when not run). */
  python: string | null;
  torchThreads: number | null;
  /** Why there is no measurement (null when there is one). */
  missing: string | null;
}

/** An official run that did not happen, and why. */
const notTimed = (path: string | null, missing: string): OfficialRun => ({
  path,
  epochSeconds: [],
  medianSeconds: NaN,
  python: null,
  torchThreads: null,
  missing,
});

/**
 * Runs the official CausalMMM code at its own configuration (configs/configs01.txt: batch size 1,
 * hidden 256, 240 training units) for `epochs + 1` epochs, in a temporary copy of the checkout:
 * the copy's `np.float(` (removed from NumPy) is read as `float(`, and its config gets the
 * epoch count and a log folder in the copy; nothing else changes. The epoch times are the
 * "time:" of the code's own "train" log lines; the first is the warm-up.
 */
function runOfficial(path: string | undefined, epochs: number): OfficialRun {
  const none = (missing: string) => notTimed(path ?? null, missing);
  if (!path) return none("no checkout of the official code given (--official PATH or CAUSALMMM_OFFICIAL)");
  if (!existsSync(join(path, "main.py")) || !existsSync(join(path, "configs", "configs01.txt")))
    return none(`${path} holds no main.py and configs/configs01.txt`);
  // the first Python that has the official code's packages: $CAUSALMMM_PYTHON, the one set-up
  // found (build/environment.json), the system's, then whichever python3 is first on PATH
  // (a pyenv or venv python3 often lacks Debian's python3-torch)
  const setupPython = (() => {
    try {
      return environment().python;
    } catch {
      return undefined;
    }
  })();
  const pythons = [...new Set([process.env.CAUSALMMM_PYTHON, setupPython, "/usr/bin/python3", "python3"].filter((p): p is string => Boolean(p)))];
  const python = pythons.find((p) => spawnSync(p, ["-c", "import torch, sklearn, pandas, matplotlib"], { encoding: "utf8" }).status === 0);
  const asked = process.env.CAUSALMMM_PYTHON;
  if (asked && python !== asked)
    process.stderr.write(`[bench] CAUSALMMM_PYTHON=${asked} cannot import torch, sklearn, pandas and matplotlib: trying the others\n`);
  if (!python)
    return none(
      `none of ${pythons.join(", ")} can import torch, sklearn, pandas and matplotlib (Debian: apt install python3-torch python3-sklearn python3-pandas python3-matplotlib; or set CAUSALMMM_PYTHON)`,
    );
  const dir = mkdtempSync(join(tmpdir(), "causalmmm-official-"));
  try {
    cpSync(path, dir, { recursive: true, filter: (src) => !src.includes(`${join(path, ".git")}`) });
    const utils = join(dir, "utils.py");
    writeFileSync(utils, readFileSync(utils, "utf8").replaceAll("np.float(", "float("));
    const config = readFileSync(join(dir, "configs", "configs01.txt"), "utf8")
      .split("\n")
      .map((l) => (l.startsWith("epochs=") ? `epochs=${epochs + 1}` : l.startsWith("saveFolder=") ? `saveFolder=${join(dir, "bench-logs")}` : l))
      .join("\n");
    writeFileSync(join(dir, "bench-config.txt"), config);
    process.stderr.write(`[bench] the official code (${path}), ${epochs + 1} epochs at its own configuration, with ${python} ...\n`);
    const r = spawnSync(python, ["main.py", "--config_file", "bench-config.txt"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) return none(`the official code exited with ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}`);
    const logs = join(dir, "bench-logs");
    if (!existsSync(logs)) return none("the official code wrote no log folder");
    const file = readdirSync(logs, { recursive: true, encoding: "utf8" }).find((f) => f.endsWith("log.txt"));
    if (!file) return none("the official code wrote no log.txt");
    const seconds = readFileSync(join(logs, file), "utf8")
      .split("\n")
      .filter((l) => /^\d+ train\b/.test(l))
      .map((l) => Number(/time: (\d+(?:\.\d+)?)s/.exec(l)?.[1]));
    if (seconds.length < 2 || seconds.some((x) => !Number.isFinite(x))) return none(`the official log has ${seconds.length} timed train epochs`);
    const probe = spawnSync(python, ["-c", "import torch; print(torch.get_num_threads())"], { encoding: "utf8" });
    const threads = probe.status === 0 && /^\d+$/.test((probe.stdout ?? "").trim()) ? Number(probe.stdout.trim()) : null;
    return {
      path,
      epochSeconds: seconds,
      medianSeconds: median(seconds.slice(1)),
      python,
      torchThreads: threads,
      missing: null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BenchCase {
  backend: BackendName;
  preset: "official" | "default";
  hidden: number;
  workers: number;
  /** wasm kernel threads of the training thread (each further gradient worker runs one). */
  threads: number;
  /** The wasm backend's matrix products ("wasm" on the other backends). */
  matmul: MatMulName;
  batchSize: number;
  units: number;
  epochs: number;
}

interface BenchRow extends BenchCase {
  warmupSeconds: number;
  epochSeconds: number[];
  medianSeconds: number;
  /** Median scaled to 240 units when fewer were timed. */
  per240Units: number;
  peakRssMb: number;
  /** 1-minute load average before and after the case (other work on the machine skews timings). */
  loadBefore: number;
  loadAfter: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The backend column: "wasm+blas" for the wasm backend with OpenBLAS products. */
function label(c: BenchCase): string {
  return c.matmul === "blas" ? `${c.backend}+blas` : c.backend;
}

async function runCase(c: BenchCase): Promise<BenchRow> {
  const loadBefore = loadavg()[0];
  const choice = await initBackend(c.backend, null, { threads: c.threads, matmul: c.matmul });
  if (choice.matmul !== c.matmul) throw new Error(`products on ${choice.matmul}, not ${c.matmul}: ${choice.matmulSkipped}`);
  const raw = loadCausalMMMSim();
  const split = splitUnits(raw, { train: 0.8, validation: 0, test: 0.2, seed: 100 });
  const panel = applyScaler(raw, fitScaler(raw, { units: split.train }));
  const units = split.train.slice(0, c.units);
  const preset = c.preset === "official" ? CAUSALMMM_OFFICIAL : CAUSALMMM_DEFAULTS;
  const model = new CausalMMM({
    ...preset,
    nodes: panel.nodes,
    target: 7,
    contextDim: 2,
    encoderSteps: panel.steps,
    hidden: c.hidden,
    encoderHidden: c.hidden,
    seed: 1,
  });
  const result = await fit(
    model,
    { batches: (_e, rng) => shuffledUnitBatches(panel, { units, batchSize: c.batchSize, rng }) },
    {
      epochs: c.epochs + 1,
      workers: c.workers,
      label: null,
      seed: 1,
    },
  );
  const secs = result.history.map((h) => h.seconds);
  const timed = secs.slice(1);
  const med = median(timed);
  return {
    ...c,
    threads: choice.threads, // what ran, should the backend have fallen back to one
    warmupSeconds: secs[0],
    epochSeconds: timed,
    medianSeconds: med,
    per240Units: (med * 240) / c.units,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    loadBefore,
    loadAfter: loadavg()[0],
  };
}

function availableBackends(): BackendName[] {
  const list: BackendName[] = [];
  try {
    require.resolve("@tensorflow/tfjs-node");
    list.push("tensorflow");
  } catch {
    // optional dependency absent: see the README
  }
  list.push("wasm", "cpu");
  return list;
}

async function main(): Promise<number> {
  const args = parseCommandLine({ name: "bench", usage: USAGE, options: OPTIONS });
  if (!args) return 0;
  if (args.child !== undefined) {
    const row = await runCase(JSON.parse(args.child) as BenchCase);
    process.stdout.write(`BENCH ${JSON.stringify(row)}\n`);
    return 0;
  }
  const quick = args.quick === true;
  const epochs = positiveIntOption(args.epochs, "epochs", quick ? 1 : 3);
  const backends = choiceListOption(args.backends, "backends", BACKENDS, availableBackends());
  const presets: string[] = choiceListOption(args.presets, "presets", PRESETS, [...PRESETS]);
  const workerCounts = (listOption(args.workers) ?? ["1", "2"]).map((w) => positiveIntOption(w, "workers", 1));
  if (workerCounts.length === 0) throw new UsageError(`--workers needs at least one count, got "${args.workers}"`);
  const threadCounts = (listOption(args.threads) ?? ["1"]).map((t) => positiveIntOption(t, "threads", 1));
  const products: MatMulName[] = choiceListOption(args.matmul, "matmul", MATMULS, existsSync(matMulAddonPath()) ? [...MATMULS] : ["wasm"]);
  const pairs = workerCounts.flatMap((workers) => threadCounts.map((threads) => ({ workers, threads })));
  // the training thread's kernel threads plus one thread per further gradient worker
  const fits = (p: { workers: number; threads: number }) => p.threads === 1 || p.threads + p.workers - 1 <= availableParallelism();
  const fitting = pairs.filter(fits);
  for (const p of pairs.filter((q) => !fits(q))) {
    process.stderr.write(`[bench] skipped: ${p.workers} worker(s) with ${p.threads} threads need more than the ${availableParallelism()} cores\n`);
  }
  const cases: BenchCase[] = [];
  for (const backend of backends) {
    // The plain-JavaScript backend is about 4x slower: it times fewer units, scaled to 240 in the table.
    const units = quick ? 32 : backend === "cpu" ? 48 : 240;
    for (const [preset, hidden] of (
      [
        ["official", 256],
        ["default", 64],
      ] as const
    ).filter(([p]) => presets.includes(p))) {
      for (const { workers, threads } of fitting) {
        if (threads > 1 && backend !== "wasm") continue; // threads are the wasm backend's
        for (const matmul of backend === "wasm" ? products : (["wasm"] as const)) {
          cases.push({ backend, preset, hidden, workers, threads, matmul, batchSize: 16, units, epochs: backend === "cpu" ? Math.min(epochs, 2) : epochs });
        }
      }
    }
  }
  const official = quick
    ? notTimed(null, "--quick times a subset of units; the official code runs only in a full bench")
    : runOfficial(args.official ?? process.env.CAUSALMMM_OFFICIAL, epochs);
  if (official.missing) process.stderr.write(`[bench] the official code is not timed: ${official.missing}\n`);
  const rows: BenchRow[] = [];
  for (const c of cases) {
    process.stderr.write(
      `[bench] ${label(c)} ${c.preset} (hidden ${c.hidden}), ${c.workers} worker(s), ${c.threads} thread(s), ${c.units} units x ${c.epochs + 1} epochs ...\n`,
    );
    const r = spawnSync(process.execPath, [__filename, "--child", JSON.stringify(c)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH "));
    if (r.status !== 0 || !line) throw new Error(`bench case failed (exit ${r.status}): ${JSON.stringify(c)}`);
    rows.push(JSON.parse(line.slice(6)) as BenchRow);
  }
  const header = "backend     preset    hidden workers threads  units  warm-up s  median s/epoch  s per 240 units  official / ours  peak RSS MB  load";
  const lines = rows.map((r) => {
    const ratio = official.missing ? "n/a" : `${(official.medianSeconds / r.per240Units).toFixed(2)}x`;
    return (
      `${label(r).padEnd(11)} ${r.preset.padEnd(9)} ${String(r.hidden).padStart(6)} ${String(r.workers).padStart(7)} ${String(r.threads).padStart(7)} ` +
      `${String(r.units).padStart(6)} ${r.warmupSeconds.toFixed(1).padStart(10)} ${r.medianSeconds.toFixed(1).padStart(15)} ` +
      `${r.per240Units.toFixed(1).padStart(16)} ${ratio.padStart(16)} ${r.peakRssMb.toFixed(0).padStart(12)}  ` +
      `${r.loadBefore.toFixed(1)}-${r.loadAfter.toFixed(1)}`
    );
  });
  const officialLine = official.missing
    ? `the official code was not timed in this run (${official.missing}): no speed ratio is reported`
    : `the official code in this run (PyTorch with ${official.torchThreads ?? "?"} intra-op thread(s), batch 1, hidden 256, 240 units): median ${official.medianSeconds.toFixed(1)} s per epoch ` +
      `(epochs ${official.epochSeconds.map((x) => x.toFixed(1)).join(", ")} s, the first a warm-up); "official / ours" is how many times faster ours is`;
  process.stdout.write([`CausalMMM epoch on the external data; ${officialLine}`, header, ...lines].join("\n") + "\n");
  const dir = join(REPO_ROOT, "build", "bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "causalmmm-epoch.json");
  writeFileSync(file, JSON.stringify({ official, date: new Date().toISOString(), rows }, null, 2) + "\n");
  process.stderr.write(`[bench] written ${file}\n`);
  return 0;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof UsageError) process.exit(reportUsageError("bench", err));
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
