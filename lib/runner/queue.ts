/**
 * The study runner's jobs on a BullMQ queue in Redis instead of local child processes, so that a
 * sweep runs on every machine that runs `npm run worker`. The submitter ({@link runOnQueue}, used
 * by `runJobs` with `queue`) adds each job under its cache key as the queue's job id (a job queued
 * twice is queued once), waits for it and writes the result entry the worker returns into its own
 * cache. A worker ({@link startQueueWorker}) runs each job as the local pool does, in a fresh
 * child process (worker.ts) that writes the worker's cache, and returns that entry. A worker that
 * dies mid-job stops renewing its lock; after `lockSeconds` another worker takes the job again
 * (BullMQ's stalled-job check), so a run resumes by itself.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, relative, resolve } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Queue, QueueEvents, Worker } from "bullmq";
import Redis from "ioredis";
import { entryPath, readEntry, writeFileAtomic } from "./cache";
import type { RunMessage } from "./protocol";
import { QUEUE_NAME, parseQueueUrl } from "./queue-url";
import { type ChildOutcome, runInChild } from "./run";

/** The folder the compiled library and scripts live in: a job's module is sent relative to it, so that another checkout finds its own copy. */
const BUILD_ROOT = resolve(__dirname, "..", "..");

/** What a queued job carries: the child's run message without the submitter's paths. */
export interface QueueJobData {
  kind: string;
  version: string;
  key: string;
  /** The configuration as written by `encodeJson`. */
  config: string;
  /** The module that registers the kind, relative to the build folder. */
  module: string;
  backend: string | null;
  /** Recompute even when the worker's cache has the entry. */
  refresh: boolean;
}

/** What a worker returns: the cache entry's file (gzip, base64) and how long the job ran. */
export interface QueueJobResult {
  entry: string;
  seconds: number;
  host: string;
}

/** One job for the queue: its cache key (the queue's job id), its run message and its version. */
export interface QueueItem {
  id: string;
  version: string;
  message: RunMessage;
}

export interface QueueRunOptions {
  url: string;
  /** The submitter's cache: where the returned entries are written. */
  cacheDir: string;
  /** Recompute every job: a completed job on the queue is removed and sent again, and workers ignore their caches. */
  refresh?: boolean;
  /** Seconds to wait for a connection to Redis before giving up (default 10). */
  connectSeconds?: number;
  /** Item k became active on some worker. */
  started(k: number): void;
  /** Item k ended: its entry is in `cacheDir`, or it failed. */
  finished(k: number, out: { seconds: number } | { error: string; seconds: number }): void;
}

/** BullMQ's connection options for a checked URL (commands wait for a reconnect rather than fail, as workers need). */
function connectionOf(url: string) {
  parseQueueUrl(url);
  return { url, maxRetriesPerRequest: null };
}

/**
 * Checks that Redis answers at `url` before any BullMQ object is made: those retry forever and
 * cannot be closed before they have connected, so an unreachable Redis would hang the run.
 */
export async function probeRedis(url: string, seconds = 10): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: seconds * 1000,
    enableOfflineQueue: false,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`queue: no answer from Redis at ${url} (${(err as Error).message}; is redis-server running there?)`);
  } finally {
    redis.disconnect();
  }
}

/**
 * Sends the items to the queue and waits until each has ended, writing every returned entry into
 * `cacheDir`. Every item is sent at once (the workers decide the order), so a failure is
 * reported when it happens and the other jobs still run. A job that failed on the queue before
 * is queued afresh; one that completed before returns its result at once.
 */
export async function runOnQueue(items: readonly QueueItem[], options: QueueRunOptions): Promise<void> {
  if (items.length === 0) return;
  const { url, cacheDir, started, finished } = options;
  const connection = connectionOf(url);
  await probeRedis(url, options.connectSeconds);
  // the events stream carries every returned entry: keep it short (its consumers here read it live)
  const queue = new Queue(QUEUE_NAME, { connection, streams: { events: { maxLen: 200 } } });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  queue.on("error", () => {});
  events.on("error", () => {});
  try {
    await queue.waitUntilReady();
    await events.waitUntilReady();
    const index = new Map(items.map((it, k) => [it.id, k]));
    events.on("active", ({ jobId }) => {
      const k = index.get(jobId);
      if (k !== undefined) started(k);
    });
    await Promise.all(
      items.map(async (it, k) => {
        const t0 = Date.now();
        try {
          let job = await queue.getJob(it.id);
          if (job && ((await job.isFailed()) || (options.refresh && (await job.isCompleted())))) {
            await job.remove();
            job = undefined;
          }
          const { kind, key, config, module, backend } = it.message;
          const data: QueueJobData = {
            kind,
            version: it.version,
            key,
            config,
            module: relative(BUILD_ROOT, module),
            backend,
            refresh: options.refresh ?? false,
          };
          job ??= await queue.add(kind, data, { jobId: it.id, attempts: 1, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 24 * 3600 } });
          const r = (await job.waitUntilFinished(events)) as QueueJobResult;
          const file = entryPath(cacheDir, kind, key);
          mkdirSync(dirname(file), { recursive: true });
          writeFileAtomic(file, gunzipSync(Buffer.from(r.entry, "base64")));
          finished(k, { seconds: r.seconds });
        } catch (err) {
          finished(k, { error: `on the queue at ${url}: ${(err as Error)?.message ?? String(err)}`, seconds: (Date.now() - t0) / 1000 });
        }
      }),
    );
  } finally {
    await events.close();
    await queue.close();
  }
}

/** How long a job's lock lasts by default: a dead worker's job is taken again after about this long. */
export const DEFAULT_LOCK_SECONDS = 60;

export interface QueueWorkerOptions {
  url: string;
  /** This worker's cache: its children write their entries here. */
  cacheDir: string;
  /** Jobs at a time, each in its own child process (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken again after about this long (default {@link DEFAULT_LOCK_SECONDS}). */
  lockSeconds?: number;
  /** Lines about the jobs and the children's output. */
  log?: (line: string) => void;
  connectSeconds?: number;
}

export interface QueueWorker {
  /** Stops taking jobs and waits for the running ones. */
  close(): Promise<void>;
}

/**
 * Pulls jobs from the queue until closed. Each job runs in a fresh child process that writes
 * this worker's cache (a job whose entry is already there is not run again); the entry is
 * returned to the submitter. A child that fails fails the job with its error.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { url, cacheDir } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const lockMs = (options.lockSeconds ?? DEFAULT_LOCK_SECONDS) * 1000;
  const connection = connectionOf(url);
  await probeRedis(url, options.connectSeconds);
  const worker = new Worker(
    QUEUE_NAME,
    async (job): Promise<QueueJobResult> => {
      const d = job.data as QueueJobData;
      const id = { kind: d.kind, version: d.version, key: d.key };
      const short = `${d.kind} ${d.key.slice(0, 12)}`;
      let entry = d.refresh ? undefined : readEntry(cacheDir, id);
      if (entry) log(`worker: ${short} was in this worker's cache`);
      else {
        const msg: RunMessage = {
          type: "run",
          kind: d.kind,
          config: d.config,
          key: d.key,
          module: resolve(BUILD_ROOT, d.module),
          cacheDir,
          backend: d.backend,
        };
        const out: ChildOutcome = await runInChild(msg, {
          label: short,
          log,
          detached: true,
          started: (p) => log(`worker: ${short} started in process ${p}`),
        });
        if (out.error !== undefined) {
          log(`worker: ${short} FAILED: ${out.error.split("\n")[0]}`);
          throw new Error(out.error);
        }
        log(`worker: ${short} done in ${out.seconds.toFixed(1)} s`);
        entry = readEntry(cacheDir, id);
      }
      if (!entry) throw new Error(`worker on ${hostname()}: the job finished but its entry cannot be read from ${cacheDir}`);
      return { entry: gzipSync(readFileSync(entryPath(cacheDir, d.kind, d.key))).toString("base64"), seconds: entry.seconds, host: hostname() };
    },
    { connection, concurrency: options.concurrency ?? 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 5 },
  );
  worker.on("error", (err) => log(`worker: ${err.message}`));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
