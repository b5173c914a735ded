/**
 * V8's young generation for processes that train. A training step allocates thousands of short-
 * lived tensor records, and with Node's default 16 MB semi-space the scavenger runs so often that
 * garbage collection was 15% of a CausalMMM stress cell's profile; a 64 MB semi-space cut that
 * cell's median time from 40.5 s to 37.0 s (three runs each, side by side). A process's young
 * generation may now grow to three semi-spaces (192 MB); numbers do not change (collection never
 * touches a tensor's values). Processes that only start others (`npm run study`, `npm run worker`)
 * need no flag: the runner adds it to each child it forks.
 */

/** The semi-space, in MB, of the kernel, the runner's children and the gradient workers. */
export const SEMI_SPACE_MB = 64;

/** The flag that sets it on a Node process. */
export const SEMI_SPACE_FLAG = `--max-semi-space-size=${SEMI_SPACE_MB}`;

/** `execArgv` with {@link SEMI_SPACE_FLAG} added, unless it already sets a semi-space. */
export function withSemiSpace(execArgv: readonly string[]): string[] {
  return execArgv.some((a) => a.startsWith("--max-semi-space-size")) ? [...execArgv] : [...execArgv, SEMI_SPACE_FLAG];
}

/**
 * The young generation of a worker thread with that semi-space (V8 sizes it as three semi-spaces:
 * two for copying and one for new large objects), for `new Worker(..., { resourceLimits })`.
 */
export const WORKER_YOUNG_GENERATION_MB = 3 * SEMI_SPACE_MB;
