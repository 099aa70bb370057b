/**
 * Command-line flags of the benchmarks in bench/: `--name value` pairs and `--help`. Every
 * benchmark starts real servers and runs for a while, so an unrecognised flag or `--help` must
 * not start a run by accident: {@link benchFlags} prints the usage and exits for `--help`/`-h`,
 * and exits with status 2 for a flag the benchmark does not take.
 */

/** Reads the flags of one benchmark. */
export interface BenchFlags {
  /** The value after `--name`, or `dflt` when the flag is absent. */
  text(name: string, dflt: string): string;
  /** {@link BenchFlags.text} as a number; exits with status 2 when it is not one. */
  num(name: string, dflt: number): number;
  /** True when `--name` is present (a flag without a value). */
  has(name: string): boolean;
}

/**
 * Parses `argv` (default: this process's arguments) for a benchmark whose flags are `known`
 * (names without dashes; those in `switches` take no value). Prints `usage` and exits 0 on
 * `--help` or `-h`; prints the offending flag and the usage and exits 2 on an unknown flag or a
 * flag missing its value.
 */
export function benchFlags(usage: string, known: readonly string[], switches: readonly string[] = [], argv: readonly string[] = process.argv.slice(2)): BenchFlags {
  const values = new Map<string, string>();
  const fail = (why: string): never => {
    process.stderr.write(`${why}\n\n${usage.trim()}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (switches.includes(name)) values.set(name, '');
    else if (known.includes(name) && i + 1 < argv.length) values.set(name, argv[++i]!);
    else fail(known.includes(name) ? `flag ${a} needs a value` : `unknown argument ${a}`);
  }
  return {
    text: (name, dflt) => values.get(name) ?? dflt,
    num: (name, dflt) => {
      const raw = values.get(name);
      if (raw === undefined) return dflt;
      const n = Number(raw);
      return Number.isFinite(n) ? n : fail(`--${name} must be a number, got ${JSON.stringify(raw)}`);
    },
    has: (name) => values.has(name),
  };
}
