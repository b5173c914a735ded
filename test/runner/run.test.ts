import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { entryPath, readEntry, cacheKey } from "../../lib/runner/cache";
import { registerJob } from "../../lib/runner/registry";
import { JobError, type JobEvent, type RunOptions, runJobs } from "../../lib/runner/run";
import { SEMI_SPACE_FLAG } from "../../lib/heap";
import { MARKS_ENV, backendJob, badResultJob, execArgvJob, exitJob, failJob, markPids, rendezvousJob, runCounts, sleepJob, sleepValue } from "./fake-jobs";

const root = mkdtempSync(join(tmpdir(), "graph-mmm-runner-"));
let n = 0;
/** A fresh cache folder and marks folder (children inherit RUNNER_TEST_MARKS). */
function fresh(): { cacheDir: string; marks: string } {
  n++;
  const marks = join(root, `marks-${n}`);
  process.env[MARKS_ENV] = marks;
  return { cacheDir: join(root, `cache-${n}`), marks };
}
const quiet = (extra: Partial<RunOptions> = {}): RunOptions => ({ progress: false, log: () => {}, ...extra });

function tempFiles(dir: string): string[] {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  return walk(dir).filter((f) => f.endsWith(".tmp"));
}

describe("runJobs", () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it("runs jobs in child processes, returns results in job order, and a re-run reads them without running", async () => {
    const { cacheDir, marks } = fresh();
    const jobs = [3, 1, 2, 0].map((id) => sleepJob({ id, ms: 50 }));
    const events: JobEvent[] = [];
    const first = await runJobs(jobs, quiet({ workers: 2, cacheDir, onProgress: (e) => events.push(e) }));
    assert.deepStrictEqual(
      first,
      jobs.map((j) => sleepValue(j.config as { id: number; ms: number })),
    );
    assert.ok(Object.is(first[0].negZero, -0) && Number.isNaN(first[0].notANumber), "NaN and -0 come back from a child");
    assert.deepEqual([...runCounts(marks).values()], [1, 1, 1, 1]);
    assert.ok(
      markPids(marks).every((p) => p !== process.pid),
      "the jobs ran in other processes",
    );
    assert.equal(events.filter((e) => e.status === "started").length, 4);
    const done = events.filter((e) => e.status === "done");
    assert.equal(done.length, 4);
    assert.deepEqual(
      done.map((e) => e.finished),
      [1, 2, 3, 4],
    );
    assert.match(done[0].line, /^jobs 1\/4: test-sleep \{"id":\d,"ms":50\} done in \d+\.\d s \(process \d+\)$/);

    const started = Date.now();
    const again: JobEvent[] = [];
    const second = await runJobs(jobs, quiet({ workers: 2, cacheDir, onProgress: (e) => again.push(e) }));
    assert.deepStrictEqual(second, first);
    assert.deepEqual([...runCounts(marks).values()], [1, 1, 1, 1], "no job ran again");
    assert.deepEqual(
      again.map((e) => e.status),
      ["cached", "cached", "cached", "cached"],
    );
    assert.ok(Date.now() - started < 1000, "a cached re-run takes no time");
    assert.deepEqual(tempFiles(cacheDir), []);
  });

  it("in-process mode (workers: 0) gives the same results from the same cache, and equal jobs run once", async () => {
    const { cacheDir, marks } = fresh();
    const jobs = [sleepJob({ id: 5, ms: 10 }), sleepJob({ ms: 10, id: 6 }), sleepJob({ ms: 10, id: 5 })];
    const local = await runJobs(jobs, quiet({ workers: 0, cacheDir }));
    assert.deepStrictEqual(local, [sleepValue({ id: 5, ms: 10 }), sleepValue({ id: 6, ms: 10 }), sleepValue({ id: 5, ms: 10 })]);
    assert.deepEqual(runCounts(marks).get(5), 1, "the same configuration (keys in another order) ran once");
    assert.deepEqual(markPids(marks), [process.pid, process.pid]);
    const viaChildren = await runJobs(jobs, quiet({ workers: 2, cacheDir }));
    assert.deepStrictEqual(viaChildren, local);
    assert.equal(runCounts(marks).get(6), 1);
    assert.deepStrictEqual(await runJobs([], quiet({ cacheDir })), []);
  });

  it("uses both workers: two jobs that can only finish together run in two processes", async () => {
    const { cacheDir } = fresh();
    const dir = join(root, `rendezvous-${n}`);
    const jobs = ["a", "b"].map((tag) => rendezvousJob({ tag, dir, expect: 2, timeoutMs: 20_000 }));
    const [a, b] = await runJobs(jobs, quiet({ workers: 2, cacheDir }));
    assert.notEqual(a.pid, b.pid);
    assert.ok(a.pid !== process.pid && b.pid !== process.pid);
  });

  it("a child initialises the tensor backend itself", async () => {
    const { cacheDir } = fresh();
    const [r] = await runJobs([backendJob({ values: [1, 2, 3.5] })], quiet({ workers: 1, cacheDir }));
    assert.equal(r.sum, 6.5);
    assert.notEqual(r.pid, process.pid);
    assert.ok(r.backend === "wasm" || r.backend === "tensorflow" || r.backend === "cpu", `backend ${r.backend}`);
    const entry = readEntry(cacheDir, { kind: "test-backend", version: "1", key: cacheKey("test-backend", "1", { values: [1, 2, 3.5] }) });
    assert.equal(entry?.backend, r.backend, "the entry records the backend");
  });

  it("a child runs with the training heap's semi-space, and without the parent's test-runner flags", async () => {
    const { cacheDir } = fresh();
    const [r] = await runJobs([execArgvJob({ id: 1 })], quiet({ workers: 1, cacheDir }));
    assert.notEqual(r.pid, process.pid);
    assert.ok(r.execArgv.includes(SEMI_SPACE_FLAG), `child flags: ${r.execArgv.join(" ")}`);
    assert.ok(!r.execArgv.some((a) => a.startsWith("--test")), `child flags: ${r.execArgv.join(" ")}`);
  });

  it("a failing job: clear error with kind, configuration and stack; running jobs finish and are cached; nothing new starts", async () => {
    const { cacheDir, marks } = fresh();
    const jobs = [failJob({ message: "bad setting", ms: 50 }), sleepJob({ id: 1, ms: 600 }), sleepJob({ id: 2, ms: 10 }), sleepJob({ id: 3, ms: 10 })];
    const err = await runJobs(jobs, quiet({ workers: 2, cacheDir })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof JobError, String(err));
    assert.match(err.message, /^1 of 4 jobs failed \(1 cached or finished, 2 not started; re-running computes only the missing ones\):/);
    assert.match(err.message, /- test-fail \{"message":"bad setting","ms":50\} in process \d+:\n {4}Error: boom: bad setting\n +at /);
    assert.match(err.message, /fake-jobs\.js/, "the stack points into the job's module");
    assert.equal(err.failures.length, 1);
    assert.equal(err.failures[0].index, 0);
    assert.deepEqual([...runCounts(marks).entries()], [[1, 1]], "the running job finished; no job started after the failure");
    assert.ok(readEntry(cacheDir, { kind: "test-sleep", version: "1", key: cacheKey("test-sleep", "1", { id: 1, ms: 600 }) }), "and it is cached");

    // keepGoing runs the rest and reports the failure at the end
    const err2 = await runJobs(jobs, quiet({ workers: 2, cacheDir, keepGoing: true })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e as JobError,
    );
    assert.match(err2.message, /^1 of 4 jobs failed \(3 cached or finished, 0 not started/);
    assert.deepEqual([...runCounts(marks).entries()].sort(), [
      [1, 1],
      [2, 1],
      [3, 1],
    ]);

    // in-process: the same error
    const err3 = await runJobs([failJob({ message: "here" }), sleepJob({ id: 4, ms: 1 })], quiet({ workers: 0, cacheDir })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e as JobError,
    );
    assert.match(err3.message, /^1 of 2 jobs failed \(0 cached or finished, 1 not started;/);
    assert.match(err3.message, /- test-fail \{"message":"here"\} in process \d+:\n {4}Error: boom: here/);
    assert.equal(runCounts(marks).get(4), undefined);
    assert.deepEqual(tempFiles(cacheDir), []);
  });

  it("a worker that exits, or a result that is not JSON, is a failure that says so", async () => {
    const { cacheDir } = fresh();
    const err = await runJobs([exitJob({ code: 3 })], quiet({ workers: 1, cacheDir })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e as JobError,
    );
    assert.match(
      err.message,
      /test-exit \{"code":3\} in process \d+:\n {4}the worker process exited with code 3 before the job finished; its last output:\n {4}about to exit/,
    );
    const err2 = await runJobs([badResultJob({})], quiet({ workers: 1, cacheDir })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e as JobError,
    );
    assert.match(err2.message, /result of job "test-bad-result"\.table: a Map is not plain data/);
  });

  it("refuses unknown kinds, configurations that are not JSON, and module-less kinds in children, before running anything", async () => {
    const { cacheDir, marks } = fresh();
    await assert.rejects(
      runJobs([sleepJob({ id: 1, ms: 1 }), { kind: "nope", config: {} }], quiet({ cacheDir })),
      /unknown job kind "nope" \(registered: .*test-sleep/,
    );
    await assert.rejects(runJobs([sleepJob({ id: 1, ms: 1, extra: { f: new Set() } })], quiet({ cacheDir })), /config of job "test-sleep"\.extra\.f: a Set/);
    const inline = registerJob({ kind: "test-inline", version: "1", backend: false, run: (c: { x: number }) => c.x * 2 });
    await assert.rejects(runJobs([inline({ x: 1 })], quiet({ cacheDir, workers: 2 })), /registered without `module`.*workers: 0/);
    assert.deepEqual(await runJobs([inline({ x: 21 })], quiet({ cacheDir, workers: 0 })), [42]);
    assert.equal(runCounts(marks).size, 0);
    await assert.rejects(runJobs([], { workers: -1 }), /workers must be a non-negative integer/);
  });

  it("a new version of a job, or refresh, recomputes it", async () => {
    const { cacheDir } = fresh();
    let calls = 0;
    const v1 = registerJob({ kind: "test-versioned", version: "1", backend: false, run: () => ++calls });
    assert.deepEqual(await runJobs([v1({})], quiet({ cacheDir, workers: 0 })), [1]);
    assert.deepEqual(await runJobs([v1({})], quiet({ cacheDir, workers: 0 })), [1], "cached");
    const v2 = registerJob({ kind: "test-versioned", version: "2", backend: false, run: () => ++calls });
    assert.deepEqual(await runJobs([v2({})], quiet({ cacheDir, workers: 0 })), [2], "the new version runs");
    assert.deepEqual(await runJobs([v2({})], quiet({ cacheDir, workers: 0, refresh: true })), [3], "refresh runs again");
    assert.equal(readdirSync(join(cacheDir, "test-versioned")).length, 2, "one entry per version");
    assert.ok(entryPath(cacheDir, "test-versioned", cacheKey("test-versioned", "1", {})).endsWith(".json"));
  });

  it("reports progress through the Progress class", async () => {
    const { cacheDir } = fresh();
    const lines: string[] = [];
    await runJobs([sleepJob({ id: 1, ms: 1 }), sleepJob({ id: 2, ms: 1 })], {
      workers: 0,
      cacheDir,
      log: () => {},
      label: "fake study",
      progress: { throttleMs: 0, write: (l) => lines.push(l) },
    });
    assert.equal(lines.length, 2);
    assert.match(lines[1], /^fake study: 2\/2 \(100%\) \d+\.\d s, cached 0, failed 0$/);
  });
});
