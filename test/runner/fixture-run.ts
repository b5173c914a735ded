/**
 * A run of the runner in its own process, for the test that kills a whole run:
 * `node fixture-run.js <cacheDir> <jobs> <ms>` runs `test-sleep` jobs 0..jobs-1 with two workers
 * and prints one JSON line per event on stdout.
 */
import { runJobs } from "../../lib/runner/run";
import { sleepJob } from "./fake-jobs";

const [cacheDir, count, ms] = process.argv.slice(2);
const jobs = Array.from({ length: Number(count) }, (_, id) => sleepJob({ id, ms: Number(ms) }));
runJobs(jobs, {
  workers: 2,
  cacheDir,
  progress: false,
  log: () => {},
  onProgress: (e) => process.stdout.write(JSON.stringify({ status: e.status, index: e.index, pid: e.pid ?? null }) + "\n"),
}).then(
  () => process.stdout.write(JSON.stringify({ status: "finished" }) + "\n"),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
