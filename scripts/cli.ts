/**
 * The command-line conventions of the study, diagnose and bench scripts: options parsed by
 * Node's `util.parseArgs` in strict mode (`--name value` and `--name=value`; an unknown option or
 * a stray argument is an error), `--help`/`-h` answered with the command's usage text on stdout,
 * and every usage error reported as one line `<command>: ...` on stderr with exit code 2.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { parseQueueUrl } from "../lib/runner/queue-url";

/** A mistake on the command line: reported as one line, exit code 2. */
export class UsageError extends Error {}

/** Exit code of a usage error. */
export const USAGE_EXIT = 2;

/** One option: a string takes a value, a boolean does not. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Left out of the list of known options in messages (an option a command passes itself). */
  internal?: boolean;
}

/** What a command accepts and says about itself. */
export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** The command's name, the prefix of its error lines. */
  name: string;
  /** The text `--help` prints. */
  usage: string;
  options: O;
}

/** Parsed options: a string option's value, a boolean's `true`, undefined when not given. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

const HELP: Record<"help", OptionSpec> = { help: { type: "boolean", short: "h" } };

/** A value that parseArgs would take for an option rather than as its argument (`-x`, `--y`). */
const optionLike = (v: string) => v.length > 1 && v.startsWith("-");

/**
 * Parses `argv` (default: this process's arguments) against `spec`. Returns null when `--help`
 * or `-h` is among them, after printing the usage text on stdout (whatever else was given);
 * throws a {@link UsageError} naming the option on anything else that is wrong.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: string[] = process.argv.slice(2)): OptionValues<O> | null {
  const all: Record<string, OptionSpec> = { ...spec.options, ...HELP };
  const options: ParseArgsConfig["options"] = Object.fromEntries(
    Object.entries(all).map(([n, o]) => [n, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  // a lenient pass first, for exact names in the messages and for --help beside a mistake
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) {
    process.stdout.write(spec.usage.endsWith("\n") ? spec.usage : `${spec.usage}\n`);
    return null;
  }
  const known = () =>
    Object.entries(spec.options)
      .filter(([, o]) => !o.internal)
      .map(([n]) => `--${n}`)
      .join(", ");
  for (const t of tokens) {
    if (t.kind === "positional") throw new UsageError(`unexpected argument "${t.value}" (options start with --; see --help)`);
    if (t.kind !== "option") continue;
    const o = spec.options[t.name];
    if (!o) throw new UsageError(`unknown option ${t.rawName} (known: ${known()}; see --help)`);
    if (o.type === "boolean" && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value, got "${t.value}"`);
    if (o.type === "string" && (t.value === undefined || (!t.inlineValue && optionLike(t.value)))) {
      throw new UsageError(
        `${t.rawName} needs a value` +
          (t.value === undefined ? "" : `, got the option-like "${t.value}" (for a value starting with "-", write ${t.rawName}=${t.value})`),
      );
    }
  }
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as OptionValues<O>;
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
}

/** Writes `<command>: <message>` on stderr. */
export function reportUsageError(command: string, err: UsageError): number {
  process.stderr.write(`${command}: ${err.message}\n`);
  return USAGE_EXIT;
}

/** A comma-separated list (blank items dropped); undefined when the option was not given. */
export function listOption(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
}

/** A Redis URL option for the job queue, checked (lib/runner/queue-url.ts). */
export function queueUrlOption(value: string): string {
  try {
    parseQueueUrl(value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return value;
}

/** A positive integer option, or `fallback` when it was not given. */
export function positiveIntOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(value.trim() !== "" && Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

/** An option that takes one of a few words, or `fallback` when it was not given. */
export function choiceOption<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be ${orList(allowed)}, got "${value}"`);
  return value as T;
}

/** A list option whose items are each one of a few words; `fallback` when it was not given. */
export function choiceListOption<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T[]): T[] {
  const items = listOption(value);
  if (items === undefined) return fallback;
  if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${orList(allowed)}`);
  const bad = items.find((x) => !(allowed as readonly string[]).includes(x));
  if (bad !== undefined) throw new UsageError(`--${name}: "${bad}" is not ${orList(allowed)}`);
  return items as T[];
}

const orList = (xs: readonly string[]) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`);
