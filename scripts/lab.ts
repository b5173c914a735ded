/**
 * `npm run lab`: a notebook UI on 127.0.0.1 with this checkout's tslab kernel. JupyterLab when
 * scripts/setup.mjs found it, else the classic Notebook. The server's data folder is the
 * checkout's own `.jupyter/data`, where the notebook runner signs the notebooks it executes, so
 * that their figures run when they are opened. `npm run lab -- --help` for the options.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, SHARE_TRAINING_ENV, figuresDir, type Scale } from "../lib/study";
import { type Environment, environment } from "./notebooks";

const USAGE = `usage: npm run lab [-- options]

Starts a notebook UI (JupyterLab where installed, else the classic Notebook) on 127.0.0.1 with
the study's TypeScript kernel, and prints its URL. Stop it with Ctrl-C.

options:
  --port N          port to listen on (default 8888; 0 picks a free one)
  --scale S         smoke|paper: the scale the notebooks run at (default smoke)
  --root DIR        folder the UI opens (default notebooks/)
  -h, --help        this text

example:
  npm run lab -- --port 8890 --scale paper`;

export interface NotebookServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The scale notebooks opened in it run at (STUDY_SCALE). */
  scale?: Scale;
  /** Folder the UI opens. Default `notebooks/`. */
  root?: string;
  /** Where notebooks run in it export their figures. Default: the scale's figures folder. */
  figuresDir?: string;
  /** Where the server's own log lines go (default: dropped). */
  log?: (chunk: string) => void;
  /** Seconds to wait for the server to answer. */
  startTimeout?: number;
}

export interface NotebookServer {
  kind: "lab" | "notebook";
  /** Base URL, ending in "/". */
  base: string;
  token: string;
  /** The URL a person opens: the UI's file browser, token included. */
  url: string;
  /** The URL of a notebook under the root folder, token included. */
  notebookUrl(relativePath: string): string;
  /** Stops the server (and its kernels); resolves when it has exited. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function serverArgs(env: Environment & { ui: NonNullable<Environment["ui"]> }, port: number, token: string, root: string): string[] {
  const app = env.ui.kind === "lab" ? "ServerApp" : "NotebookApp";
  const args = [
    "-m",
    env.ui.kind === "lab" ? "jupyterlab" : "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    `--${app}.port_retries=0`,
    `--${app}.token=${token}`,
    `--${app}.${env.ui.kind === "lab" ? "root_dir" : "notebook_dir"}=${root}`,
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  return args;
}

async function waitForServer(base: string, token: string, child: ChildProcess, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the notebook server exited with ${child.exitCode} before answering`);
    try {
      const res = await fetch(`${base}api/status?token=${token}`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the notebook server did not answer on ${base} within ${seconds} s`);
}

/** Starts the notebook UI with the checkout's kernel; rejects when none is installed. */
export async function startNotebookServer(opts: NotebookServerOptions = {}): Promise<NotebookServer> {
  const env = environment();
  const ui = env.ui;
  if (!ui)
    throw new Error(
      "no notebook UI is installed: install JupyterLab (pip install jupyterlab) or the classic Notebook " +
        "(Debian: apt-get install jupyter-notebook), then run `node scripts/setup.mjs`",
    );
  const port = opts.port === undefined || opts.port === 0 ? await freePort() : opts.port;
  const token = randomBytes(16).toString("hex");
  const root = opts.root ?? join(REPO_ROOT, "notebooks");
  const scale = opts.scale ?? "smoke";
  const child = spawn(ui.python, serverArgs({ ...env, ui }, port, token, root), {
    cwd: root,
    env: {
      ...process.env,
      JUPYTER_PATH: env.jupyterPath,
      JUPYTER_DATA_DIR: env.jupyterData,
      PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      STUDY_SCALE: scale,
      STUDY_FIGURES_DIR: opts.figuresDir ?? figuresDir(scale),
      [SHARE_TRAINING_ENV]: process.env[SHARE_TRAINING_ENV] ?? "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so that stop() also ends its kernels
  });
  const log = opts.log ?? (() => {});
  child.stdout?.on("data", (b: Buffer) => log(b.toString()));
  child.stderr?.on("data", (b: Buffer) => log(b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), sig);
      } catch {
        // already gone
      }
    };
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const base = `http://127.0.0.1:${port}/`;
  try {
    await waitForServer(base, token, child, opts.startTimeout ?? 60);
  } catch (err) {
    await stop();
    throw err;
  }
  const notebookUrl = (rel: string) => `${base}${ui.kind === "lab" ? "lab/tree" : "notebooks"}/${rel}?token=${token}`;
  return { kind: ui.kind, base, token, url: `${base}${ui.kind === "lab" ? "lab" : "tree"}?token=${token}`, notebookUrl, stop };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { port: { type: "string" }, scale: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message.split("\n")[0]}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? 8888 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`lab: --port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  if (values.scale !== undefined && values.scale !== "smoke" && values.scale !== "paper") {
    process.stderr.write(`lab: --scale must be smoke or paper, got "${values.scale}"\n`);
    return 2;
  }
  const server = await startNotebookServer({
    port,
    scale: (values.scale as Scale | undefined) ?? "smoke",
    root: values.root,
    log: (c) => process.stderr.write(c),
  });
  const name = server.kind === "lab" ? "JupyterLab" : "the classic Notebook";
  process.stdout.write(`\n${name} with the TypeScript kernel of this checkout is running. Open:\n\n    ${server.url}\n\nCtrl-C stops it.\n`);
  await new Promise<void>((r) => {
    process.once("SIGINT", r);
    process.once("SIGTERM", r);
  });
  await server.stop();
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`lab: ${(err as Error).message.split("\n")[0]}\n`);
      process.exit(1);
    },
  );
}
