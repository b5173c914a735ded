/**
 * `runJobs`: runs a list of jobs, each result computed once and cached on disk, so that the
 * study's long experiments survive interruptions and re-runs reuse what is done.
 * {@link runJobs} gives the pool, the cache and what happens on failure.
 */
import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { currentBackend } from "../backend";
import { Progress, type ProgressOptions } from "../progress";
import { withSemiSpace } from "../heap";
import { type CacheEntry, type EntryId, cacheKey, defaultCacheDir, readEntry, sweepTempFiles } from "./cache";
import { executeJob } from "./execute";
import { canonicalJson, encodeJson } from "./json";
import type { ChildMessage, RunMessage } from "./protocol";
import { QUEUE_ENV, parseQueueUrl } from "./queue-url";
import { type Job, type JobDefinition, jobDefinition } from "./registry";

export interface RunOptions {
  /** Child processes running at once; default `os.availableParallelism()`; 0 = in this process, one job after another. */
  workers?: number;
  /** Cache folder; default `STUDY_CACHE_DIR` or `<repo>/.cache/results`. */
  cacheDir?: string;
  /** Recompute every job and overwrite its entry (default false). */
  refresh?: boolean;
  /** After a failure, run the remaining jobs anyway before rejecting (default false). */
  keepGoing?: boolean;
  /** Called when a job starts and when it finishes (cached, done, failed). */
  onProgress?: (event: JobEvent) => void;
  /** Label of the progress display; default "jobs". */
  label?: string;
  /** The progress display (lib/progress.ts): false for none, or its options. */
  progress?: boolean | Partial<ProgressOptions>;
  /** Output lines of the jobs (children's stdout and stderr, prefixed by the job); default stderr. */
  log?: (line: string) => void;
  /** Tensor backend for the jobs: default the one active here, else `GRAPH_MMM_BACKEND` / auto. */
  backend?: string;
  /**
   * A Redis URL (`redis://HOST:PORT`): send the jobs to the study's BullMQ queue there, for
   * `npm run worker` processes on any machines, instead of running them here (lib/runner/queue.ts);
   * default `STUDY_QUEUE`, else local. `workers` is then ignored.
   */
  queue?: string;
}

export type JobStatus = "cached" | "started" | "done" | "failed";

export interface JobEvent {
  status: JobStatus;
  /** Position of the job in the list (the first one, when the list holds the same job twice). */
  index: number;
  job: Job;
  key: string;
  /** Process that runs or ran the job (undefined for a cached one). */
  pid?: number;
  /** Seconds the job ran (done), or since it started (failed). */
  seconds?: number;
  /** The error's text (failed). */
  error?: string;
  /** Finished jobs so far, of `total` distinct jobs. */
  finished: number;
  total: number;
  /** One line describing the event. */
  line: string;
}

/** One failed job. */
export interface JobFailure {
  index: number;
  job: Job;
  key: string;
  pid?: number;
  /** Stack of the job's error, or how its process ended. */
  error: string;
}

/** The rejection of {@link runJobs} when jobs failed. */
export class JobError extends Error {
  constructor(
    readonly failures: JobFailure[],
    /** Distinct jobs whose results are in the cache (cached before or finished in this run). */
    readonly completed: number,
    /** Distinct jobs that never started. */
    readonly notStarted: number,
    readonly total: number,
  ) {
    const counts = `${completed} cached or finished, ${notStarted} not started`;
    const head = `${failures.length} of ${total} job${total === 1 ? "" : "s"} failed (${counts}; re-running computes only the missing ones):`;
    const body = failures.map((f) => `- ${describeJob(f.job)}${f.pid ? ` in process ${f.pid}` : ""}:\n${indent(f.error)}`);
    super([head, ...body].join("\n"));
    this.name = "JobError";
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** `kind {config}` with the configuration shortened to a readable length. */
export function describeJob(job: Job, max = 160): string {
  let config: string;
  try {
    config = canonicalJson(job.config);
  } catch {
    config = "(config is not JSON)";
  }
  return `${job.kind} ${config.length > max ? `${config.slice(0, max - 3)}...` : config}`;
}

interface Task {
  index: number;
  job: Job;
  def: JobDefinition;
  key: string;
  /** Positions in the job list that are this job. */
  positions: number[];
}

const WORKER = join(__dirname, "worker.js");

/** Where a task's entry is in the cache. */
function entryId(task: Task): EntryId {
  return { kind: task.job.kind, version: task.def.version, key: task.key };
}

/**
 * The distinct jobs of a list, by cache key (a job listed twice runs once). Keys first: an
 * unknown kind or a configuration that is not JSON fails before anything runs; when the jobs run
 * in child processes (local or on queue workers), every kind must name the module a child loads
 * to find it.
 */
function distinctTasks(jobs: readonly Job[], inChildren: boolean): Map<string, Task> {
  const tasks = new Map<string, Task>();
  jobs.forEach((job, index) => {
    const def = jobDefinition(job.kind);
    const key = cacheKey(job.kind, def.version, job.config);
    const task = tasks.get(key);
    if (task) task.positions.push(index);
    else tasks.set(key, { index, job, def, key, positions: [index] });
  });
  if (inChildren) {
    const orphan = [...tasks.values()].find((t) => !t.def.module);
    if (orphan) {
      throw new Error(
        `job kind "${orphan.job.kind}" was registered without \`module\`, so a child process cannot load it: ` +
          "register it with `module: __filename` in a module, or run with workers: 0",
      );
    }
  }
  return tasks;
}

/** Flags of this process that a child must not inherit (the test runner's, the debugger's). */
function childExecArgv(): string[] {
  return withSemiSpace(process.execArgv.filter((a) => !/^--(test|inspect|debug|experimental-test)/.test(a)));
}

function checkWorkers(workers: number): void {
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`workers must be a non-negative integer, got ${workers}`);
}

/** The result type of a job. */
export type ResultOf<J> = J extends Job<infer R> ? R : never;

/**
 * Runs the jobs; resolves to their results in job order (typed by the jobs' makers: a list of
 * `Job<A> | Job<B>` gives `(A | B)[]`).
 *
 * Cached results are read; the others run in a pool of child processes, `workers` at a time
 * (one per core by default), one fresh process per job (see worker.ts). Each child writes its
 * result to the cache before it reports, so an interrupted run (a killed worker, a killed
 * notebook, Ctrl-C) keeps every finished job and a re-run computes only the rest. The results
 * come back in job order, always as read from the cache, so that a fresh result and a cached one
 * are the same values (NaN included).
 *
 * A job that fails (throws, or its process dies) is reported with its kind, configuration and
 * stack; no new job starts after it, the running ones finish (and are cached), and the run
 * rejects with a {@link JobError} listing every failure (`keepGoing: true` runs the rest first).
 *
 * With `queue` (or `STUDY_QUEUE`) the jobs that are not cached go to the study's queue in Redis
 * instead, all at once, for `npm run worker` processes on any machines (lib/runner/queue.ts);
 * each result is written into this cache as it comes back, and the run rejects, as above, once
 * every job has ended.
 */
export async function runJobs<J extends Job<any>>(jobs: readonly J[], opts: RunOptions = {}): Promise<ResultOf<J>[]> {
  type R = ResultOf<J>;
  const workers = opts.workers ?? availableParallelism();
  checkWorkers(workers);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const backend = opts.backend ?? currentBackend()?.name ?? null;

  const queueUrl = opts.queue ?? (process.env[QUEUE_ENV] || undefined);
  if (queueUrl) parseQueueUrl(queueUrl);
  const tasks = distinctTasks(jobs, Boolean(queueUrl) || workers > 0);

  sweepTempFiles(cacheDir);
  const total = tasks.size;
  const results = new Array<R>(jobs.length);
  const settle = (task: Task, entry: CacheEntry<R>) => task.positions.forEach((p) => (results[p] = entry.result));
  const progress = opts.progress === false ? undefined : new Progress(opts.label ?? "jobs", total, opts.progress === true ? {} : (opts.progress ?? {}));
  let finished = 0;
  let cached = 0;
  let failed = 0;
  let ran = 0;
  const emit = (status: JobStatus, task: Task, extra: Partial<JobEvent>, text: string) => {
    if (status !== "started") finished++;
    const line = `${opts.label ?? "jobs"} ${finished}/${total}: ${text}`;
    const event: JobEvent = { status, index: task.index, job: task.job, key: task.key, finished, total, line, ...extra };
    opts.onProgress?.(event);
    if (status !== "started") progress?.update(finished, { cached, failed });
  };

  const queue: Task[] = [];
  for (const task of tasks.values()) {
    const entry = opts.refresh ? undefined : readEntry<R>(cacheDir, entryId(task), log);
    if (entry) {
      settle(task, entry);
      cached++;
      emit("cached", task, {}, `${describeJob(task.job, 80)} cached`);
    } else {
      queue.push(task);
    }
  }

  const failures: JobFailure[] = [];
  let stop = false;
  const finish = (task: Task, pid: number | undefined, out: { seconds: number } | { error: string; seconds: number }) => {
    if ("error" in out) {
      failed++;
      failures.push({ index: task.index, job: task.job, key: task.key, pid, error: out.error });
      if (!opts.keepGoing) stop = true;
      const text = `${describeJob(task.job, 80)} FAILED after ${out.seconds.toFixed(1)} s: ${out.error.split("\n")[0]}`;
      emit("failed", task, { pid, seconds: out.seconds, error: out.error }, text);
      return;
    }
    const entry = readEntry<R>(cacheDir, entryId(task), log);
    if (!entry) {
      finish(task, pid, { error: `the job finished but its cache entry ${task.key} cannot be read from ${cacheDir}`, seconds: out.seconds });
      return;
    }
    settle(task, entry);
    ran++;
    const where = pid === undefined ? " (on a queue worker)" : pid === process.pid ? "" : ` (process ${pid})`;
    emit("done", task, { pid, seconds: out.seconds }, `${describeJob(task.job, 80)} done in ${out.seconds.toFixed(1)} s${where}`);
  };

  if (queueUrl) {
    const { runOnQueue } = await import("./queue");
    await runOnQueue(
      queue.map((task) => ({ id: task.key, version: task.def.version, message: runMessage(task, cacheDir, backend) })),
      {
        url: queueUrl,
        cacheDir,
        refresh: opts.refresh ?? false,
        started: (k) => emit("started", queue[k], {}, `${describeJob(queue[k].job, 80)} started on a queue worker`),
        finished: (k, out) => finish(queue[k], undefined, out),
      },
    );
    queue.length = 0;
  } else if (workers === 0) {
    while (!stop && queue.length > 0) {
      const task = queue.shift()!;
      emit("started", task, { pid: process.pid }, `${describeJob(task.job, 80)} started`);
      const started = Date.now();
      try {
        const out = await executeJob(task.def, {
          config: task.job.config,
          key: task.key,
          cacheDir,
          backend: { request: backend, log: null },
          inChild: false,
          log,
        });
        finish(task, process.pid, out);
      } catch (err) {
        finish(task, process.pid, { error: (err as Error)?.stack ?? String(err), seconds: (Date.now() - started) / 1000 });
      }
    }
  } else {
    const runOne = (task: Task) =>
      runInChild(runMessage(task, cacheDir, backend), {
        label: `${task.job.kind} #${task.index}`,
        log,
        started: (pid) => emit("started", task, { pid }, `${describeJob(task.job, 80)} started in process ${pid}`),
      });
    const slot = async () => {
      while (!stop && queue.length > 0) {
        const task = queue.shift()!;
        const out = await runOne(task);
        finish(task, out.pid, out);
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, queue.length) }, slot));
  }

  if (failures.length > 0) throw new JobError(failures, cached + ran, queue.length, total);
  return results;
}

export interface ChildOutcome {
  pid: number | undefined;
  seconds: number;
  error?: string;
}

/** The message that tells a child to run a task. */
function runMessage(task: Task, cacheDir: string, backend: string | null): RunMessage {
  return { type: "run", kind: task.job.kind, config: encodeJson(task.job.config), key: task.key, module: task.def.module!, cacheDir, backend };
}

/** How a child is labelled in its output lines, where they go, and who is told its pid. */
export interface ChildOptions {
  /** Prefix of the child's output lines (with its pid). */
  label: string;
  log: (line: string) => void;
  started: (pid: number) => void;
  /** Start the child in its own process group, so that a Ctrl-C meant for its parent does not reach it (queue workers finish their jobs). */
  detached?: boolean;
}

/**
 * Forks a worker (worker.ts) for one job and sends it `msg`; resolves when the process has
 * exited: with the job's seconds, or with an error (the job's stack, or how the process ended
 * and its last output lines). Used by the local pool and by the queue's workers.
 */
export function runInChild(msg: RunMessage, options: ChildOptions): Promise<ChildOutcome & ({ error: string } | { seconds: number })> {
  const { label, log, started } = options;
  const { cacheDir } = msg;
  return new Promise((resolveOutcome) => {
    const t0 = Date.now();
    let child: ChildProcess;
    try {
      child = fork(WORKER, [], {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        execArgv: childExecArgv(),
        serialization: "json",
        detached: options.detached ?? false,
      });
    } catch (err) {
      resolveOutcome({ pid: undefined, seconds: 0, error: `could not start a worker process: ${(err as Error).message}` });
      return;
    }
    const pid = child.pid;
    const prefix = `[${label}${pid ? ` pid ${pid}` : ""}]`;
    const tail: string[] = [];
    const forward = (stream: NodeJS.ReadableStream | null) => {
      let partial = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) {
          tail.push(l);
          if (tail.length > 20) tail.shift();
          log(`${prefix} ${l}`);
        }
      });
      stream?.on("end", () => {
        if (partial) {
          tail.push(partial);
          log(`${prefix} ${partial}`);
        }
      });
    };
    forward(child.stdout);
    forward(child.stderr);
    let reply: ChildMessage | undefined;
    let spawnError: Error | undefined;
    child.on("message", (m: ChildMessage) => {
      reply ??= m;
    });
    child.on("error", (err) => {
      spawnError ??= err;
    });
    child.on("close", (code, signal) => {
      const seconds = reply?.type === "done" ? reply.seconds : (Date.now() - t0) / 1000;
      if (pid !== undefined) sweepTempFiles(cacheDir, pid);
      if (reply?.type === "done") return resolveOutcome({ pid, seconds });
      if (reply?.type === "error") return resolveOutcome({ pid, seconds, error: reply.error.stack });
      const how = spawnError ? `could not run: ${spawnError.message}` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const last = tail.filter((l) => l.trim()).slice(-10);
      const lastOutput = last.length ? `; its last output:\n${last.join("\n")}` : "";
      resolveOutcome({ pid, seconds, error: `the worker process ${how} before the job finished${lastOutput}` });
    });
    if (pid !== undefined) started(pid);
    child.send(msg, (err) => {
      if (err) spawnError ??= err;
    });
  });
}
