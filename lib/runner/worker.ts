/**
 * A child process of the runner (forked by run.ts): receives one job, loads the module that
 * registers its kind, initialises the tensor backend when the job uses it, runs the job, writes
 * the result to the cache itself (so that it survives the parent), reports, and exits. One
 * process per job: no state (tensor variables, memory, random streams) carries from one job
 * to the next, so a result does not depend on which jobs ran before it.
 *
 * When the parent goes away (killed, or the run aborted) the IPC channel closes and the child
 * exits at once, leaving no orphan computing a result nobody waits for.
 */
import { cacheKey } from "./cache";
import { executeJob } from "./execute";
import { decodeJson } from "./json";
import type { ChildMessage, RunMessage } from "./protocol";
import { jobDefinition } from "./registry";

function send(msg: ChildMessage, exitCode: number): void {
  if (!process.send || !process.connected) process.exit(exitCode);
  process.send(msg, undefined, {}, () => process.exit(exitCode));
}

async function run(msg: RunMessage): Promise<void> {
  require(msg.module);
  const def = jobDefinition(msg.kind);
  const config = decodeJson(msg.config);
  const key = cacheKey(def.kind, def.version, config);
  if (key !== msg.key) {
    throw new Error(
      `job kind "${msg.kind}": this process computed another cache key than the sender, so its code or its GRAPH_MMM_MATMUL differs (was ${msg.module} rebuilt during the run, or is this a queue worker built from another commit or started with other products?)`,
    );
  }
  const out = await executeJob(def, {
    config,
    key,
    cacheDir: msg.cacheDir,
    backend: { request: msg.backend, log: null },
    inChild: true,
    log: (line) => process.stderr.write(line + "\n"),
  });
  send({ type: "done", seconds: out.seconds, file: out.file }, 0);
}

if (!process.send) {
  process.stderr.write("lib/runner/worker.js is started by the runner (runJobs), not directly\n");
  process.exit(2);
}
process.on("disconnect", () => process.exit(130));
process.once("message", (msg: RunMessage) => {
  run(msg).catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: "error", error: { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` } }, 1);
  });
});
