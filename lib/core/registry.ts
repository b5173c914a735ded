/**
 * Model registry: rebuilds a model from its `kind` and JSON configuration, e.g. in a gradient
 * worker thread. The map starts empty; the modules that define models fill it in when they are
 * loaded (lib/models/registry.ts registers the study's models). A worker thread is a fresh
 * module graph, so the registry also records which module registers a kind (`module:
 * __filename`, as the job registry does for jobs): the worker loads that module by its path, and
 * train/ never imports models/.
 */
import type { Trainable } from "./trainable";

/** Builds a model from the `spec` it reported (`Trainable.spec`). */
export type ModelBuilder = (spec: Record<string, unknown>) => Trainable;

interface Entry {
  build: ModelBuilder;
  module?: string;
}

const BUILDERS = new Map<string, Entry>();
const MODULES: string[] = [];

/**
 * Registers a model type. `module` is the file that makes this registration when it is loaded
 * (pass `__filename`); without it, gradient worker threads can rebuild the kind only through a
 * module announced by {@link registerModelModule}.
 */
export function registerModel(kind: string, build: ModelBuilder, options: { module?: string } = {}): void {
  BUILDERS.set(kind, { build, module: options.module });
}

/**
 * Announces a module that registers model kinds when it is loaded, without loading it here: a
 * worker thread loads it to rebuild a model whose kind was not registered in the thread that
 * started the worker (a model class imported directly rather than through its registry module).
 */
export function registerModelModule(module: string): void {
  if (!MODULES.includes(module)) MODULES.push(module);
}

/** The modules a fresh thread must load to rebuild `kind`: its registering module, else every announced one. */
export function modelModules(kind: string): string[] {
  const module = BUILDERS.get(kind)?.module;
  return module ? [module] : [...MODULES];
}

/** The registered kinds, in registration order. */
export function modelKinds(): string[] {
  return [...BUILDERS.keys()];
}

export function buildModel(kind: string, spec: Record<string, unknown>): Trainable {
  const entry = BUILDERS.get(kind);
  if (!entry) throw new Error(`unknown model kind "${kind}" (known: ${modelKinds().join(", ")})`);
  return entry.build(spec);
}
