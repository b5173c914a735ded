/**
 * The runner on a BullMQ queue: a Redis on 127.0.0.1 at a free port, two `worker` processes, a
 * small study sent through the queue; one worker is killed mid-job, the other takes the job
 * again, and the results equal a local run's.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bypassSeedJob } from "../../lib/experiments/jobs";
import { canonicalJson } from "../../lib/runner/json";
import { runOnQueue } from "../../lib/runner/queue";
import { runJobs } from "../../lib/runner/run";
import { MARKS_ENV, runCounts, sleepJob } from "./fake-jobs";

const REDIS = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
const WORKER = join(__dirname, "..", "..", "scripts", "worker.js");
const root = mkdtempSync(join(tmpdir(), "graph-mmm-queue-"));
const quiet = { progress: false, log: () => {} } as const;

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once Redis at the port answers PING. */
async function redisUp(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection(port, "127.0.0.1");
      c.once("error", () => resolve(false));
      c.once("data", (d) => {
        c.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
      c.once("connect", () => c.write("PING\r\n"));
    });
    if (ok) return;
    if (Date.now() > deadline) assert.fail(`redis-server on port ${port} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
}

function startWorker(url: string, cache: string): WorkerProcess {
  const child = spawn(process.execPath, [WORKER, "--queue", url, "--cache", cache, "--lock-seconds", "2"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: process.env,
  });
  const lines: string[] = [];
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => lines.push(...chunk.split("\n").filter(Boolean)));
  return { child, lines };
}

/** A study's results as canonical JSON without the wall-clock times they record (which differ from run to run). */
function withoutTimes(results: unknown): string {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => !/seconds$/i.test(k))
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  return canonicalJson(strip(results));
}

/** Equal canonical JSON, reported by where the two first differ (not by dumping both). */
function sameJson(a: string, b: string, what: string): void {
  if (a === b) return;
  let k = 0;
  while (a[k] === b[k]) k++;
  assert.fail(`${what}: they differ at character ${k}: ...${a.slice(Math.max(0, k - 80), k + 80)}... vs ...${b.slice(Math.max(0, k - 80), k + 80)}...`);
}

async function waitFor(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe(
  "runner: jobs on a BullMQ queue",
  { skip: REDIS ? false : "redis-server is not installed (npm test installs Debian's redis-server when it can)" },
  () => {
    let redis: ChildProcess;
    let url: string;
    const workers: WorkerProcess[] = [];
    // a small study: four sleeps (time to kill a worker in) and one seed of the bypass benchmark on a tiny panel, two decoders
    const study = [
      ...Array.from({ length: 4 }, (_, id) => sleepJob({ id, ms: 1500 })),
      bypassSeedJob({
        panel: { generator: "sparse-target", input: { units: 4, steps: 60, seed: 3 } },
        seed: 1,
        config: {
          decoders: ["no-graph", "oracle"],
          decoder: { graphSafe: { hidden: 8, message: 4, embed: 2 }, fit: { epochs: 2 }, window: 20, windowsPerUnit: 2, batchSize: 4 },
          evaluation: { history: 10, stride: 4, influenceStride: 8, horizon: 7 },
        },
      }),
    ];

    before(async () => {
      const port = await freePort();
      redis = spawn(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", root], { stdio: "ignore" });
      await redisUp(port);
      url = `redis://127.0.0.1:${port}`;
    });

    after(async () => {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      redis?.kill("SIGKILL");
      rmSync(root, { recursive: true, force: true });
    });

    it("two workers, one killed mid-job: the other takes its job again and the results equal a local run's", { timeout: 5 * 60_000 }, async () => {
      process.env[MARKS_ENV] = join(root, "marks-local");
      const local = await runJobs(study, { ...quiet, workers: 1, queue: "", cacheDir: join(root, "local") });

      const marks = join(root, "marks-queue");
      process.env[MARKS_ENV] = marks; // the workers' children inherit it
      workers.push(startWorker(url, join(root, "worker-a")), startWorker(url, join(root, "worker-b")));
      await waitFor("both workers pull jobs", () => workers.every((w) => w.lines.some((l) => l.includes("pulling jobs from"))));
      // kill worker a in the sleep of its first job (the sleeps are queued first, so each worker's first job is one)
      let killed: string | undefined;
      const watcher = waitFor("worker a's child sleeps", () => workers[0].lines.some((l) => /\] sleeping 1500 ms/.test(l))).then(() => {
        killed = workers[0].lines.find((l) => /\] sleeping 1500 ms/.test(l));
        workers[0].child.kill("SIGKILL");
      });
      const submitter = join(root, "submitter");
      const queued = await runJobs(study, { ...quiet, queue: url, cacheDir: submitter });
      await watcher;
      assert.ok(killed, "worker a ran a job before it was killed");
      sameJson(withoutTimes(queued), withoutTimes(local), "the same results as the local run");
      assert.ok(withoutTimes(local).length > 10_000, "the bypass seed's evaluations are compared too");
      // every result came back into the submitter's own cache, which no worker wrote
      assert.deepEqual(readdirSync(submitter).sort(), ["bypass-seed", "test-sleep"]);
      assert.equal(readdirSync(join(submitter, "test-sleep")).length, 4);
      // the killed job ran again elsewhere; worker b did the rest
      const counts = runCounts(marks);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      assert.equal(total, 5, `the killed sleep ran twice, every other job once: ${JSON.stringify([...counts])}`);
      assert.equal(Math.max(...counts.values()), 2);
      assert.ok(workers[1].lines.some((l) => /worker: .* done in/.test(l)));

      // sent again: the queue answers from the completed jobs, nothing runs
      const again = await runJobs(study, { ...quiet, queue: url, cacheDir: join(root, "submitter-2") });
      sameJson(canonicalJson(again), canonicalJson(queued), "the queue's completed results, times included");
      assert.equal(
        [...runCounts(marks).values()].reduce((a, b) => a + b, 0),
        total,
        "no job ran again",
      );
      // with refresh, the completed job is sent again and the worker ignores its cache
      await runJobs([study[0]], { ...quiet, queue: url, refresh: true, cacheDir: join(root, "submitter-3") });
      assert.equal(
        [...runCounts(marks).values()].reduce((a, b) => a + b, 0),
        total + 1,
        "the refreshed job ran once more",
      );
    });

    it("a bad queue URL and an unreachable Redis are one-line errors", async () => {
      await assert.rejects(runJobs([sleepJob({ id: 9, ms: 1 })], { ...quiet, queue: "http://x:1", cacheDir: join(root, "bad") }), /is not a redis:\/\/ URL/);
      const r = spawnSync(process.execPath, [WORKER, "--queue", "nonsense"], { encoding: "utf8" });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^worker: queue: "nonsense" is not a URL; give redis:\/\/HOST:PORT\n$/);
      const nobody = `redis://127.0.0.1:${await freePort()}`;
      const item = {
        id: "x",
        version: "1",
        message: { type: "run" as const, kind: "test-sleep", config: "{}", key: "x", module: __filename, cacheDir: root, backend: null },
      };
      await assert.rejects(
        runOnQueue([item], { url: nobody, cacheDir: join(root, "bad"), connectSeconds: 1, started: () => {}, finished: () => {} }),
        new RegExp(`^Error: queue: no answer from Redis at ${nobody} \\(.+; is redis-server running there\\?\\)$`),
      );
    });
  },
);
