/**
 * `npm run worker`: pulls the study's jobs from a BullMQ queue in Redis and runs them, one fresh
 * child process per job, on this machine (lib/runner/queue.ts). Start as many as there are
 * machines (or cores); a study sent with `--queue` (or `STUDY_QUEUE`) is shared among them.
 */
import { CACHE_ENV, defaultCacheDir } from "../lib/runner/cache";
import { SHARE_TRAINING_ENV } from "../lib/study";
import { DEFAULT_LOCK_SECONDS, startQueueWorker } from "../lib/runner/queue";
import { QUEUE_ENV, QUEUE_NAME } from "../lib/runner/queue-url";
import { UsageError, parseCommandLine, positiveIntOption, queueUrlOption, reportUsageError } from "./cli";

const USAGE = `Usage: npm run worker -- --queue redis://HOST:PORT [options]   (or: node build/scripts/worker.js ...)

Pulls the study's jobs from the queue "${QUEUE_NAME}" in Redis at HOST:PORT and runs them here,
each in a fresh child process, writing this machine's results cache and returning each result to
the run that sent it. Runs until stopped (Ctrl-C once: finish the running jobs; twice: stop now,
and another worker takes the job again after --lock-seconds). This checkout must be built from the
same commit as the submitter's: a job whose code differs is refused with the reason.

Options:
  --queue URL             the Redis URL (default: $${QUEUE_ENV})
  --concurrency N         jobs at a time (default 1; one per core is the most that helps)
  --cache DIR             the results cache (default: $STUDY_CACHE_DIR, else .cache/results)
  --lock-seconds S        how soon a job of a dead worker is taken again (default ${DEFAULT_LOCK_SECONDS})
  -h, --help              print this text and exit

Example (Redis on host "queue", two workers on each machine):
  npm run worker -- --queue redis://queue:6379 --concurrency 2
`;

const OPTIONS = { queue: { type: "string" }, concurrency: { type: "string" }, cache: { type: "string" }, "lock-seconds": { type: "string" } } as const;

async function main(): Promise<number | null> {
  const args = parseCommandLine({ name: "worker", usage: USAGE, options: OPTIONS });
  if (!args) return 0;
  const url = args.queue ?? process.env[QUEUE_ENV];
  if (!url) throw new UsageError(`--queue redis://HOST:PORT is needed (or set ${QUEUE_ENV})`);
  queueUrlOption(url);
  const concurrency = positiveIntOption(args.concurrency, "concurrency", 1);
  const lockSeconds = positiveIntOption(args["lock-seconds"], "lock-seconds", DEFAULT_LOCK_SECONDS);
  const cacheDir = args.cache ?? defaultCacheDir();
  // the jobs' shared trainings go to the same cache (STUDY_SHARE_TRAINING=0 retrains)
  process.env[CACHE_ENV] = cacheDir;
  process.env[SHARE_TRAINING_ENV] ??= "1";
  const worker = await startQueueWorker({ url, cacheDir, concurrency, lockSeconds });
  process.stderr.write(`worker ${process.pid}: pulling jobs from ${url} (queue ${QUEUE_NAME}, ${concurrency} at a time, cache ${cacheDir})\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`worker ${process.pid}: finishing the running jobs (signal again to stop now)\n`);
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return null;
}

main()
  .then((code) => {
    if (code !== null) process.exit(code);
  })
  .catch((err: unknown) => {
    if (err instanceof UsageError) process.exit(reportUsageError("worker", err));
    process.stderr.write(`worker: ${(err as Error).message}\n`);
    process.exit(1);
  });
