/**
 * Runs one job in this process and stores its result: shared by the in-process mode of the
 * runner and by its child processes.
 */
import { writeEntry } from "./cache";
import type { JobDefinition } from "./registry";

export interface Executed {
  seconds: number;
  file: string;
}

export async function executeJob(
  def: JobDefinition,
  config: unknown,
  key: string,
  cacheDir: string,
  backend: { request: string | null; log: ((line: string) => void) | null },
  inChild: boolean,
  log: (line: string) => void,
): Promise<Executed> {
  let backendName: string | null = null;
  if (def.backend !== false) {
    // loaded only when needed: jobs without tensors start without loading tfjs
    const { initBackend, parseBackendRequest } = await import("../backend");
    const choice = await initBackend(parseBackendRequest(backend.request ?? undefined), backend.log);
    backendName = choice.name;
  }
  const started = process.hrtime.bigint();
  const result = await def.run(config, { kind: def.kind, key, inChild, log });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const file = writeEntry(cacheDir, { kind: def.kind, version: def.version, key, config, result, seconds, pid: process.pid, backend: backendName });
  return { seconds, file };
}
