/**
 * A small datadriven test runner (after cockroachdb/datadriven, used by etcd-io/raft). A
 * script is a sequence of blocks:
 *
 *     # comments and blank lines between blocks are ignored
 *     command pos1 key=value key=(a,b)
 *     optional input lines
 *     ----
 *     expected output (no blank lines)
 *
 * Each block's output is compared with the expectation. With `REWRITE=1` in the environment,
 * the expectations are replaced by the actual output and the file is rewritten: review the diff
 * and commit it only if you understand every change.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** One argument: `key` alone (positional), `key=value`, or `key=(v1,v2)`. */
export interface CmdArg {
  key: string;
  vals: string[];
}

/** One block of a script. */
export interface TestCase {
  /** `file:line` of the command, for error messages. */
  pos: string;
  cmd: string;
  args: CmdArg[];
  /** The command line exactly as written (kept verbatim on rewrite). */
  line: string;
  /** Lines between the command and `----`, joined with newlines. */
  input: string;
  expected: string;
}

function parseArgs(words: string[]): CmdArg[] {
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return { key: w, vals: [] };
    const key = w.slice(0, eq);
    let v = w.slice(eq + 1);
    if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1);
    return { key, vals: v === '' ? [] : v.split(',').map((s) => s.trim()) };
  });
}

/** Splits a command line into words, keeping `(a, b)` groups together. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (cur !== '') words.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur !== '') words.push(cur);
  return words;
}

/** Parses a script into blocks, keeping the text between blocks for rewriting. */
export function parseScript(text: string, file: string): { cases: TestCase[]; gaps: string[][] } {
  const lines = text.replace(/\n$/, '').split('\n');
  const cases: TestCase[] = [];
  const gaps: string[][] = [];
  let gap: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      gap.push(line);
      i++;
      continue;
    }
    const pos = `${file}:${i + 1}`;
    const [cmd, ...rest] = splitWords(line);
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`${pos}: missing ---- after command`);
    i++; // skip ----
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    gaps.push(gap);
    gap = [];
    cases.push({ pos, cmd: cmd!, args: parseArgs(rest), line, input: input.join('\n'), expected: expected.join('\n') });
  }
  gaps.push(gap);
  return { cases, gaps };
}

function render(cases: TestCase[], gaps: string[][], outputs: string[]): string {
  let out = '';
  cases.forEach((tc, k) => {
    for (const g of gaps[k] ?? []) out += `${g}\n`;
    out += `${tc.line}\n`;
    if (tc.input !== '') out += `${tc.input}\n`;
    out += `----\n${outputs[k]}\n`;
  });
  for (const g of gaps[cases.length] ?? []) out += `${g}\n`;
  return out;
}

/**
 * Runs every block of the script at `path` through `handle`. Throws on the first mismatch
 * (with both outputs), unless REWRITE=1, in which case the file is rewritten.
 */
export function runScript(path: string, handle: (tc: TestCase) => string): void {
  const text = readFileSync(path, 'utf8');
  const { cases, gaps } = parseScript(text, path);
  const rewrite = process.env['REWRITE'] === '1';
  const outputs: string[] = [];
  for (const tc of cases) {
    let actual = handle(tc).replace(/\s+$/, '');
    if (actual === '') actual = 'ok';
    if (/\n\s*\n/.test(actual)) throw new Error(`${tc.pos}: output contains a blank line, which the format cannot hold`);
    outputs.push(actual);
    if (!rewrite && actual !== tc.expected) {
      throw new Error(`${tc.pos}: ${tc.cmd}: output mismatch\n--- expected\n${tc.expected}\n--- actual\n${actual}\n`);
    }
  }
  if (rewrite) {
    const next = render(cases, gaps, outputs);
    if (next !== text) writeFileSync(path, next);
  }
}
