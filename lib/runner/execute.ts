/**
 * Runs one job in this process and stores its result: shared by the in-process mode of the
 * runner and by its child processes.
 */
import { writeEntry } from "./cache";
import type { JobDefinition } from "./registry";

/** How long a job ran and where its entry was written. */
export interface Executed {
  seconds: number;
  file: string;
}

/** One run of a job: its configuration and key, where to store it, the backend, and where its output lines go. */
export interface ExecuteOptions {
  config: unknown;
  key: string;
  cacheDir: string;
  /** The tensor backend to initialise (when the job uses one) and where its choice is logged. */
  backend: { request: string | null; log: ((line: string) => void) | null };
  /** Whether this is a child process of the runner (told to the job). */
  inChild: boolean;
  log: (line: string) => void;
}

/** Initialises the backend when the job needs it, runs the job, and writes its entry to the cache. */
export async function executeJob(def: JobDefinition, options: ExecuteOptions): Promise<Executed> {
  const { config, key, cacheDir, backend, inChild, log } = options;
  let backendName: string | null = null;
  if (def.backend !== false) {
    // loaded only when needed: jobs without tensors start without loading tfjs
    const { initBackend, parseBackendRequest } = await import("../backend");
    // a child is one of a pool sized to the cores: one kernel thread each
    const choice = await initBackend(parseBackendRequest(backend.request ?? undefined), backend.log, inChild ? { threads: 1 } : {});
    backendName = choice.name;
  }
  const started = process.hrtime.bigint();
  const result = await def.run(config, { kind: def.kind, key, inChild, log });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const file = writeEntry(cacheDir, {
    kind: def.kind,
    version: def.version,
    key,
    config,
    result,
    seconds,
    pid: process.pid,
    backend: backendName,
  });
  return { seconds, file };
}
