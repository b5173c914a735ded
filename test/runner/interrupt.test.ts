/**
 * The runner survives interruption: a run interrupted mid-way (a worker killed, or the whole
 * run killed) resumes: the re-run completes with the same results as an uninterrupted run,
 * finished jobs are not run again, and no partial or temporary file is left in the cache.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cacheKey, readEntry } from "../../lib/runner/cache";
import { decodeJson } from "../../lib/runner/json";
import { JobError, runJobs } from "../../lib/runner/run";
import { MARKS_ENV, type SleepResult, runCounts, sleepJob } from "./fake-jobs";

const root = mkdtempSync(join(tmpdir(), "graph-mmm-interrupt-"));
const JOBS = 6;
const MS = 400;
const jobs = Array.from({ length: JOBS }, (_, id) => sleepJob({ id, ms: MS }));
const quiet = { progress: false, log: () => {} } as const;

function cacheFiles(dir: string): string[] {
  return readdirSync(join(dir, "test-sleep")).sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("runner: an interrupted run resumes", () => {
  let reference: SleepResult[];
  before(async () => {
    process.env[MARKS_ENV] = join(root, "marks-reference");
    reference = await runJobs(jobs, { ...quiet, workers: 2, cacheDir: join(root, "reference") });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("a worker killed mid-job: the run fails naming it; the re-run completes with the same results, running only what was missing", async () => {
    const cacheDir = join(root, "kill-worker");
    const marks = join(root, "marks-kill-worker");
    process.env[MARKS_ENV] = marks;
    let victim: number | undefined;
    const first = runJobs(jobs, {
      ...quiet,
      workers: 2,
      cacheDir,
      onProgress: (e) => {
        // the fourth job: two have finished, two are running; kill it once it is running (its
        // mark is written), in its sleep
        if (e.status === "started" && e.index === 3) {
          victim = e.pid;
          void waitUntil("job 3 runs", () => existsSync(join(marks, `3.${e.pid}`))).then(() => process.kill(e.pid!, "SIGKILL"));
        }
      },
    });
    const err = await first.then(
      () => assert.fail("the interrupted run should reject"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof JobError, String(err));
    const killed = `test-sleep \\{"id":3,"ms":${MS}\\} in process ${victim}:\\n {4}the worker process was killed by SIGKILL before the job finished`;
    assert.match(err.message, new RegExp(killed));
    assert.deepEqual(
      [...runCounts(marks).entries()].sort(),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ],
      "jobs 4 and 5 never started",
    );
    assert.equal(cacheFiles(cacheDir).length, 3, "the three finished jobs are cached, the killed one is not");

    // what a child killed while writing its entry leaves behind: a partial temporary file
    const partial = join(cacheDir, "test-sleep", `${cacheKey("test-sleep", "1", jobs[3].config)}.json.${victim}-deadbeef.tmp`);
    writeFileSync(partial, '{"format":"graph-mmm-result/1","kind":"test-sl');

    const resumed = await runJobs(jobs, { ...quiet, workers: 2, cacheDir });
    assert.deepStrictEqual(resumed, reference, "the same results as an uninterrupted run");
    assert.deepEqual(
      [...runCounts(marks).entries()].sort(),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 1],
        [5, 1],
      ],
      "finished jobs did not run again",
    );
    const files = cacheFiles(cacheDir);
    assert.equal(files.length, JOBS);
    assert.ok(
      files.every((f) => /^[0-9a-f]{64}\.json$/.test(f)),
      `only complete entries: ${files.join(", ")}`,
    );
    for (const [k, job] of jobs.entries()) {
      assert.deepStrictEqual(readEntry(cacheDir, { kind: "test-sleep", version: "1", key: cacheKey("test-sleep", "1", job.config) })?.result, reference[k]);
    }
  });

  it("the whole run killed: its workers exit too, and the re-run completes with the same results", async () => {
    const cacheDir = join(root, "kill-run");
    const marks = join(root, "marks-kill-run");
    process.env[MARKS_ENV] = marks;
    const args = [join(__dirname, "fixture-run.js"), cacheDir, String(JOBS), String(MS)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: process.env });
    const events: { status: string; index: number; pid: number | null }[] = [];
    let buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const l of lines) if (l) events.push(decodeJson(l));
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // kill the runner once two jobs are done and two more are running
    const count = (status: string) => events.filter((e) => e.status === status).length;
    await waitUntil("two jobs are done and two more started", () => count("done") >= 2 && count("started") >= 4);
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");
    const workers = events.filter((e) => e.status === "started").map((e) => e.pid!);
    await waitUntil("the killed run's workers have exited", () => workers.every((p) => !alive(p)), 5000);
    const done = events.filter((e) => e.status === "done").map((e) => e.index);
    assert.ok(!events.some((e) => e.status === "finished"), "the run was interrupted before the end");

    const resumed = await runJobs(jobs, { ...quiet, workers: 2, cacheDir });
    assert.deepStrictEqual(resumed, reference, "the same results as an uninterrupted run");
    const counts = runCounts(marks);
    for (const k of done) assert.equal(counts.get(k), 1, `job ${k} finished before the kill and did not run again`);
    for (let k = 0; k < JOBS; k++) assert.ok((counts.get(k) ?? 0) >= 1);
    const files = cacheFiles(cacheDir);
    assert.equal(files.length, JOBS);
    assert.ok(
      files.every((f) => /^[0-9a-f]{64}\.json$/.test(f)),
      `only complete entries: ${files.join(", ")}`,
    );
    const again = spawnSync(process.execPath, [join(__dirname, "fixture-run.js"), cacheDir, String(JOBS), String(MS)], { encoding: "utf8", env: process.env });
    const statuses = again.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { status: string }).status);
    assert.deepEqual(statuses, [...Array(JOBS).fill("cached"), "finished"], "a third run only reads the cache");
  });
});
