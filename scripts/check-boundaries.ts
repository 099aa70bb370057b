/**
 * The mechanical check of DESIGN.md §3 (who may import whom), run first by the test command so
 * a wrong arrow fails CI before any test runs. Usage: `node dist/scripts/check-boundaries.js [root]`.
 * Prints every violation as `file:line: rule` and exits 1 if there is any.
 *
 * Why a custom checker rather than dependency-cruiser or madge: the rules are not only about
 * the import graph. `core/raft` must also be free of time, randomness and process state
 * (`Date`, `Math.random`, timers, `process.`), and library code must not log with `console.`;
 * those are identifier uses inside a module, which import-graph tools cannot see. One small
 * tokenizer (source-scan.ts) serves both kinds of rule, with no dependency to install, and the
 * rule table below reads like the table in DESIGN §3.
 *
 * Scope: every `.ts` file under the directories tsconfig compiles (core, protocol, zkproxy,
 * bin, scripts, test, bench). Type-only imports count as edges for the boundary rules (a type
 * is coupling too), but may name devDependencies, since they are erased at compile time.
 * Packages must be declared in package.json; code that ships (reachable from bin/ or a library
 * index.ts) must take them from "dependencies". An optionalDependency counts as a devDependency
 * here, and need not be installed: npm leaves one out when its install fails, so only code that
 * does not ship may use it.
 */
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { findImports, isGlobalUse, tokenize, type ImportRef, type Token } from './source-scan';

/** One broken rule at one place. `file` is repo-relative with `/` separators. */
export interface Violation {
  file: string;
  line: number;
  rule: string;
}

/** Directories whose `.ts` files are checked (those tsconfig.json compiles). */
export const SOURCE_DIRS = ['core', 'protocol', 'zkproxy', 'bin', 'scripts', 'test', 'bench'];
/** Library code: no console, no imports of bin/test/bench/scripts. */
const LIBRARY_DIRS = ['core/', 'protocol/', 'zkproxy/'];
const NON_LIBRARY_DIRS = ['bin/', 'test/', 'bench/', 'scripts/'];
const STATE_DIRS = ['core/mvcc/', 'core/lease/', 'core/auth/', 'core/apply/'];
const STATE_MAY_IMPORT = ['core/storage/backend.ts', 'core/storage/schema.ts'];
const LMDB_OWNER = 'core/storage/lmdb-backend.ts';
const ZK_CORE_DOOR = 'zkproxy/backend/local-backend.ts';
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** What an import points at after resolution. */
type Target =
  | { kind: 'internal'; path: string } // repo-relative file
  | { kind: 'package'; name: string } // bare npm specifier, by package name
  | { kind: 'builtin'; name: string } // node:fs, fs, …
  | { kind: 'unresolved' };

/** Context shared by all files of one run. */
export interface CheckContext {
  root: string;
  /**
   * Files that ship: reachable by value imports from bin/ or from a library `index.ts`. Only
   * these must take their packages from `dependencies`; a build-time tool that lives in a
   * library directory (protocol/etcd/codegen) may use devDependencies.
   */
  runtime: Set<string>;
  /** Packages in package.json `dependencies`. */
  dependencies: Set<string>;
  /** Packages in package.json `devDependencies`. */
  devDependencies: Set<string>;
  /** Packages in package.json `optionalDependencies`: npm leaves one out when its install fails. */
  optionalDependencies: Set<string>;
}

const under = (file: string, dirs: readonly string[]): boolean => dirs.some((d) => file.startsWith(d));

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Resolve a specifier as TypeScript (moduleResolution node) would, far enough for the rules. */
export function resolveImport(ctx: CheckContext, fromFile: string, spec: string): Target {
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const base = path.resolve(ctx.root, path.dirname(fromFile), spec);
    const stem = /\.(c|m)?js$/.test(base) ? base.replace(/\.(c|m)?js$/, '') : base;
    const candidates = [`${stem}.ts`, `${stem}.tsx`, `${stem}.d.ts`, base, path.join(base, 'index.ts')];
    const hit = candidates.find(isFile);
    if (!hit) return { kind: 'unresolved' };
    const rel = path.relative(ctx.root, hit).split(path.sep).join('/');
    return rel.startsWith('../') ? { kind: 'unresolved' } : { kind: 'internal', path: rel };
  }
  if (spec.startsWith('node:') || isBuiltin(spec)) return { kind: 'builtin', name: spec.replace(/^node:/, '') };
  const name = packageName(spec);
  // An optional package may be absent (its install failed): it still names a package.
  const present = isFile(path.join(ctx.root, 'node_modules', name, 'package.json')) || ctx.optionalDependencies.has(name);
  return present ? { kind: 'package', name } : { kind: 'unresolved' };
}

/** The import rules of DESIGN §3 for one edge; returns the broken rules' texts. */
export function importRules(ctx: CheckContext, file: string, imp: ImportRef, target: Target): string[] {
  const out: string[] = [];
  const spec = `'${imp.specifier}'`;
  if (target.kind === 'unresolved') {
    return [`import ${spec} does not resolve to a file or an installed package`];
  }
  const to = target.kind === 'internal' ? target.path : '';
  const pkg = target.kind === 'package' ? target.name : target.kind === 'builtin' ? target.name : '';

  if (target.kind === 'package') {
    // Runtime code ships without devDependencies; a type-only import is erased, so it may use one.
    // An optional package may be missing at run time, so it is held to the same rule.
    const runtime = ctx.runtime.has(file);
    const devOnly = ctx.devDependencies.has(pkg) || ctx.optionalDependencies.has(pkg);
    const declared = ctx.dependencies.has(pkg) || (devOnly && (!runtime || imp.typeOnly));
    if (!declared) {
      out.push(
        runtime
          ? `import ${spec}: package '${pkg}' must be in package.json "dependencies" (runtime code)`
          : `import ${spec}: package '${pkg}' is not declared in package.json`,
      );
    }
  }
  if (pkg === 'lmdb' && target.kind === 'package' && file !== LMDB_OWNER) {
    out.push(`import ${spec}: only ${LMDB_OWNER} may import lmdb (DESIGN §3)`);
  }
  if (under(file, LIBRARY_DIRS) && to && under(to, NON_LIBRARY_DIRS)) {
    out.push(`import ${spec}: library code must not import ${to.split('/')[0]}/`);
  }
  if (file.startsWith('protocol/') && (to.startsWith('core/') || to.startsWith('zkproxy/'))) {
    out.push(`import ${spec}: protocol/ must not import core or zkproxy (DESIGN §3)`);
  }
  if (file.startsWith('core/') && to.startsWith('zkproxy/')) {
    out.push(`import ${spec}: core/ must not import zkproxy (DESIGN §3)`);
  }
  if (file.startsWith('core/util/') && to.startsWith('core/') && !to.startsWith('core/util/')) {
    out.push(`import ${spec}: core/util is the leaf of core and may import only core/util`);
  }
  if (file.startsWith('core/raft/')) {
    if (target.kind !== 'internal') {
      out.push(`import ${spec}: core/raft is I/O-free and may import no package or node: module (DESIGN §3)`);
    } else if (!to.startsWith('core/raft/') && !to.startsWith('core/util/')) {
      out.push(`import ${spec}: core/raft may import only core/util and core/raft (DESIGN §3)`);
    }
  }
  if (under(file, STATE_DIRS)) {
    if (to && !to.startsWith('core/util/') && !under(to, STATE_DIRS) && !STATE_MAY_IMPORT.includes(to)) {
      out.push(`import ${spec}: core/mvcc|lease|auth|apply may import only ${STATE_MAY_IMPORT.join(', ')}, core/util and each other (DESIGN §3)`);
    }
    if (pkg === 'lmdb' || pkg.startsWith('@grpc/') || pkg === 'net') {
      out.push(`import ${spec}: core/mvcc|lease|auth|apply must not import lmdb, grpc or node:net (DESIGN §3)`);
    }
  }
  if (file.startsWith('zkproxy/') && to && !to.startsWith('zkproxy/') && !to.startsWith('protocol/')) {
    if (!to.startsWith('core/')) {
      // bin/test/bench/scripts: already reported by the library rule.
    } else if (file !== ZK_CORE_DOOR) {
      out.push(`import ${spec}: zkproxy reaches the core only through ${ZK_CORE_DOOR} (DESIGN §3)`);
    } else if (to !== 'core/index.ts') {
      out.push(`import ${spec}: ${ZK_CORE_DOOR} may import only core/index.ts, not core internals (DESIGN §3)`);
    }
  }
  return out;
}

/** Identifiers core/raft must not use: it has no clock, no randomness, no process (DESIGN §4). */
function raftGlobalRule(tokens: Token[], i: number): string | undefined {
  if (!isGlobalUse(tokens, i)) return undefined;
  const t = tokens[i] as Token;
  const next = tokens[i + 1];
  const dot = next?.kind === 'punct' && (next.value === '.' || next.value === '?.');
  switch (t.value) {
    case 'Date':
    case 'performance':
      return `core/raft must not read the clock (${t.value}); time comes from tick() (DESIGN §4)`;
    case 'setTimeout':
    case 'setInterval':
    case 'setImmediate':
    case 'queueMicrotask':
      return `core/raft must not use timers (${t.value}); the driver owns time (DESIGN §4)`;
    case 'Math':
      return dot && tokens[i + 2]?.value === 'random' ? 'core/raft must not use Math.random; randomness is injected (DESIGN §4)' : undefined;
    case 'process':
      return dot ? 'core/raft must not use process.* (DESIGN §3)' : undefined;
    case 'globalThis':
      return 'core/raft must not reach globals through globalThis (DESIGN §3)';
    default:
      return undefined;
  }
}

/** One file's tokens and resolved imports. */
interface Scanned {
  file: string;
  tokens: Token[];
  imports: Array<{ imp: ImportRef; target: Target }>;
}

function scanFile(ctx: CheckContext, file: string, text: string): Scanned {
  const tokens = tokenize(text);
  return { file, tokens, imports: findImports(tokens).map((imp) => ({ imp, target: resolveImport(ctx, file, imp.specifier) })) };
}

/** The closure of value imports from the runtime roots: bin/** and library index.ts files. */
function runtimeClosure(scanned: Map<string, Scanned>): Set<string> {
  const isRoot = (f: string): boolean => f.startsWith('bin/') || (under(f, LIBRARY_DIRS) && f.endsWith('/index.ts'));
  const seen = new Set<string>([...scanned.keys()].filter(isRoot));
  const queue = [...seen];
  while (queue.length > 0) {
    const s = scanned.get(queue.pop() as string);
    for (const { imp, target } of s?.imports ?? []) {
      if (imp.typeOnly || target.kind !== 'internal' || seen.has(target.path)) continue;
      seen.add(target.path);
      queue.push(target.path);
    }
  }
  return seen;
}

/** The violations in one scanned file. */
function checkScanned(ctx: CheckContext, s: Scanned): Violation[] {
  const { file, tokens } = s;
  const out: Violation[] = [];
  for (const { imp, target } of s.imports) {
    for (const rule of importRules(ctx, file, imp, target)) out.push({ file, line: imp.line, rule });
  }
  const library = under(file, LIBRARY_DIRS);
  const raft = file.startsWith('core/raft/');
  if (!library && !raft) return out;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'ident') continue;
    if (library && t.value === 'console' && isGlobalUse(tokens, i) && tokens[i + 1]?.value === '.') {
      out.push({ file, line: t.line, rule: 'no console.* in library code; take a Logger (DESIGN §10)' });
    }
    const r = raft ? raftGlobalRule(tokens, i) : undefined;
    if (r) out.push({ file, line: t.line, rule: r });
  }
  return out;
}

/** All `.ts` files under the source dirs of `root`, repo-relative, sorted. Bounded by depth. */
export function listSources(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    if (depth > 32) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(child, depth + 1);
      else if (e.isFile() && e.name.endsWith('.ts')) out.push(child);
    }
  };
  for (const d of SOURCE_DIRS) walk(d, 0);
  return out.sort();
}

/** Read package.json's dependency sets. */
export function loadContext(root: string): CheckContext {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  // A name in both lists is optional: npm lets optionalDependencies override dependencies.
  const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
  return {
    root,
    runtime: new Set(),
    dependencies: new Set(Object.keys(pkg.dependencies ?? {}).filter((d) => !optional.has(d))),
    devDependencies: new Set(Object.keys(pkg.devDependencies ?? {})),
    optionalDependencies: optional,
  };
}

/** Check every source file under `root`; returns violations sorted by file and line. */
export function checkBoundaries(root: string): { files: number; violations: Violation[] } {
  const ctx = loadContext(root);
  const files = listSources(root);
  const violations: Violation[] = [];
  const scanned = new Map<string, Scanned>();
  for (const f of files) {
    try {
      scanned.set(f, scanFile(ctx, f, fs.readFileSync(path.join(root, f), 'utf8')));
    } catch (err) {
      violations.push({ file: f, line: 1, rule: `could not be checked: ${String(err)}` });
    }
  }
  ctx.runtime = runtimeClosure(scanned);
  for (const s of scanned.values()) violations.push(...checkScanned(ctx, s));
  violations.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { files: files.length, violations };
}

/** Format as `file:line: rule`, one per line. */
export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `${v.file}:${v.line}: ${v.rule}`).join('\n');
}

/** The repository root: dist/scripts/ → ../.. */
export function defaultRoot(): string {
  return path.resolve(__dirname, '..', '..');
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? defaultRoot());
  const { files, violations } = checkBoundaries(root);
  if (violations.length > 0) {
    process.stderr.write(`${formatViolations(violations)}\n`);
    process.stderr.write(`check-boundaries: ${violations.length} violation(s) in ${files} files (DESIGN.md §3)\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`check-boundaries: ${files} files, no violations\n`);
  }
}
