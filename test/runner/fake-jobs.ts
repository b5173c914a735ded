/**
 * Test-only jobs for the runner's tests: no tensors (except `test-backend`), sleeps instead of
 * work. Each run of `test-sleep` leaves a mark file in `RUNNER_TEST_MARKS` (when set), so that a
 * test can count how often each job ran and in which process.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { registerJob } from "../../lib/runner/registry";

export const MARKS_ENV = "RUNNER_TEST_MARKS";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SleepConfig {
  id: number;
  ms: number;
  /** Extra settings that only change the key. */
  extra?: Record<string, unknown>;
}

export interface SleepResult {
  id: number;
  square: number;
  half: number;
  notANumber: number;
  infinite: number;
  negZero: number;
  series: number[];
  label: string;
}

/** The value `test-sleep` returns for a configuration (what a test expects). */
export function sleepValue(config: SleepConfig): SleepResult {
  return {
    id: config.id,
    square: config.id * config.id,
    half: config.id / 2,
    notANumber: NaN,
    infinite: config.id % 2 === 0 ? Infinity : -Infinity,
    negZero: -0,
    series: [config.id, NaN, 1 / 3, -Infinity],
    label: `job ${config.id}`,
  };
}

export const sleepJob = registerJob({
  kind: "test-sleep",
  version: "1",
  module: __filename,
  backend: false,
  run: async (config: SleepConfig, ctx) => {
    const marks = process.env[MARKS_ENV];
    if (marks) {
      mkdirSync(marks, { recursive: true });
      appendFileSync(join(marks, `${config.id}.${process.pid}`), `${Date.now()}\n`);
    }
    ctx.log(`sleeping ${config.ms} ms`);
    await sleep(config.ms);
    return sleepValue(config);
  },
});

/** Counts of runs per job id, from the mark files. */
export function runCounts(marks: string): Map<number, number> {
  const counts = new Map<number, number>();
  if (!existsSync(marks)) return counts;
  for (const f of readdirSync(marks)) {
    const id = Number(f.split(".")[0]);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Pids that ran jobs, from the mark files. */
export function markPids(marks: string): number[] {
  return existsSync(marks) ? readdirSync(marks).map((f) => Number(f.split(".")[1])) : [];
}

/**
 * Writes `<dir>/<tag>` and waits until `expect` such files exist: two of these finish only when
 * they run at the same time, i.e. in two processes.
 */
export const rendezvousJob = registerJob({
  kind: "test-rendezvous",
  version: "1",
  module: __filename,
  backend: false,
  run: async (config: { tag: string; dir: string; expect: number; timeoutMs: number }) => {
    mkdirSync(config.dir, { recursive: true });
    writeFileSync(join(config.dir, config.tag), String(process.pid));
    const deadline = Date.now() + config.timeoutMs;
    while (readdirSync(config.dir).length < config.expect) {
      if (Date.now() > deadline) throw new Error(`rendezvous ${config.tag}: the other job did not run at the same time`);
      await sleep(20);
    }
    return { tag: config.tag, pid: process.pid };
  },
});

export const failJob = registerJob({
  kind: "test-fail",
  version: "1",
  module: __filename,
  backend: false,
  run: async (config: { message: string; ms?: number }): Promise<number> => {
    if (config.ms) await sleep(config.ms);
    throw new Error(`boom: ${config.message}`);
  },
});

/** Ends its process without a word (as a crash would). */
export const exitJob = registerJob({
  kind: "test-exit",
  version: "1",
  module: __filename,
  backend: false,
  run: (config: { code: number }): number => {
    process.stderr.write("about to exit\n");
    process.exit(config.code);
  },
});

/** Returns something that is not JSON (a Map). */
export const badResultJob = registerJob({
  kind: "test-bad-result",
  version: "1",
  module: __filename,
  backend: false,
  run: () => ({ table: new Map([["a", 1]]) }),
});

/** Uses the tensor backend, which the child initialises. */
export const backendJob = registerJob({
  kind: "test-backend",
  version: "1",
  module: __filename,
  run: async (config: { values: number[] }) => {
    const { currentBackend } = await import("../../lib/backend");
    const { tf } = await import("../../lib/tf");
    const sum = tf.tidy(() => tf.tensor1d(config.values).sum().arraySync() as number);
    return { backend: currentBackend()?.name ?? null, sum, pid: process.pid };
  },
});

/** What `test-panel-seed` returns: the panel and seed it was given, and the process it ran in. */
export interface PanelSeedResult {
  generator: string;
  panelSeed: number | null;
  seed: number;
  pid: number;
}

/** A per-seed study job without tensors: it echoes its panel and seed (tests of `overPanels`). */
export const panelSeedJob = registerJob({
  kind: "test-panel-seed",
  version: "1",
  module: __filename,
  backend: false,
  run: async (config: { panel: { generator: string; input?: { seed?: number } }; seed: number; config: unknown }): Promise<PanelSeedResult> => {
    await sleep(20);
    return { generator: config.panel.generator, panelSeed: config.panel.input?.seed ?? null, seed: config.seed, pid: process.pid };
  },
});

/** Reports the Node flags of the process it ran in (tests of the children's heap settings). */
export const execArgvJob = registerJob({
  kind: "test-exec-argv",
  version: "1",
  module: __filename,
  backend: false,
  run: async (_config: { id: number }) => ({ execArgv: process.execArgv, pid: process.pid }),
});
