/** Where the study's job queue is: the environment variable, the queue's name, and the checked Redis URL. */

/** A Redis URL here sends every `runJobs` to the queue (lib/runner/queue.ts). */
export const QUEUE_ENV = "STUDY_QUEUE";

/** The BullMQ queue the study's jobs go to. */
export const QUEUE_NAME = "graph-mmm-jobs";

/** A Redis URL checked: `redis://[user:password@]host:port[/db]`; throws one line otherwise. */
export function parseQueueUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`queue: "${url}" is not a URL; give redis://HOST:PORT`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`queue: "${url}" is not a redis:// URL; give redis://HOST:PORT`);
  if (!u.hostname) throw new Error(`queue: "${url}" names no host; give redis://HOST:PORT`);
  return u;
}
