/**
 * Job registry: maps a job's `kind` to the function that computes it, like the model registry
 * (lib/models/registry.ts) does for models, so that a child process of the runner can find the
 * job it is given by name. {@link registerJob} shows how a module registers its jobs.
 */

/** A unit of work: a registered kind and its JSON configuration. `R` is the result's type. */
export interface Job<R = unknown> {
  kind: string;
  /** Plain JSON data (see json.ts); it and the kind's version identify the result. */
  config: unknown;
  /** Phantom field carrying the result type; never set. */
  readonly __result?: R;
}

/** What a running job is told. */
export interface JobContext {
  kind: string;
  /** The job's cache key (hex SHA-256). */
  key: string;
  /** True in a child process of the runner, false when run in the calling process. */
  inChild: boolean;
  /** A line of job output (forwarded with the job's name when it runs in a child). */
  log(line: string): void;
}

export interface JobDefinition<C = any, R = unknown> {
  /** Letters, digits, '.', '_' and '-'; also the name of the job's folder in the cache. */
  kind: string;
  /** Part of the cache key: bump it when the job's results change. */
  version: string;
  /**
   * The file that registers this kind (pass `__filename`): a child process requires it. Without
   * it the kind runs only in the calling process (`workers: 0`).
   */
  module?: string;
  /** Whether a child initialises the tensor backend before running the job (default true). */
  backend?: boolean;
  run(config: C, ctx: JobContext): Promise<R> | R;
}

const KIND = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const JOBS = new Map<string, JobDefinition>();

/**
 * Registers (or replaces) a job kind; returns a function that makes jobs of this kind, typed by
 * the definition's configuration and result.
 *
 * A module registers its jobs when it is loaded, and says which file it is (`module:
 * __filename`), so that a child process of the runner can load the same module to find the job:
 *
 * ```ts
 * export const seedJob = registerJob({
 *   kind: "bypass-seed", version: "1", module: __filename,
 *   run: async (config: { seed: number }) => ({ seed: config.seed, mse: 0.1 }),
 * });
 * await runJobs([seedJob({ seed: 1 }), seedJob({ seed: 2 })]);
 * ```
 *
 * `version` is part of the cache key: change it when the job's code changes its results, and
 * the cached results of the old version are no longer used.
 */
export function registerJob<C, R>(def: JobDefinition<C, R>): (config: C) => Job<R> {
  if (!KIND.test(def.kind)) throw new Error(`job kind "${def.kind}" must match ${KIND}`);
  if (typeof def.version !== "string" || def.version === "") throw new Error(`job kind "${def.kind}": version must be a non-empty string`);
  if (typeof def.run !== "function") throw new Error(`job kind "${def.kind}": run must be a function`);
  JOBS.set(def.kind, def as JobDefinition);
  return (config: C) => ({ kind: def.kind, config });
}

/** The definition of a registered kind; throws with the known kinds otherwise. */
export function jobDefinition(kind: string): JobDefinition {
  const def = JOBS.get(kind);
  if (!def) {
    const known = [...JOBS.keys()].sort();
    throw new Error(`unknown job kind "${kind}" (registered: ${known.length ? known.join(", ") : "none"}; is the module that registers it imported?)`);
  }
  return def;
}

/** The registered kinds, sorted. */
export function registeredKinds(): string[] {
  return [...JOBS.keys()].sort();
}
