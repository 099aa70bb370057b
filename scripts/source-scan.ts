/**
 * A small TypeScript tokenizer for the boundary check: enough of the lexical grammar to tell
 * code from comments, strings, template literals and regular expressions, so that an import
 * written inside a string (a test fixture) or a `Date` in a comment is not mistaken for code.
 *
 * It is deliberately not a parser: the checks need import specifiers and identifier uses, both
 * recognisable from a token and its neighbours. Known approximation: a `/` right after `}` is
 * read as division (a regex literal starting a statement after a block is not recognised).
 */

/** Token kinds. Template literal text and regex bodies are kept out of the code stream. */
export type TokenKind = 'ident' | 'string' | 'template' | 'number' | 'regex' | 'punct';

/** A token with its 1-based line. For strings, `value` is the unquoted, unescaped text. */
export interface Token {
  kind: TokenKind;
  value: string;
  line: number;
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);
/** Multi-character punctuators we keep whole (the checks look at `.` and `?.`). */
const MULTI_PUNCT = ['...', '?.', '=>'];

const ID_START = /[\p{ID_Start}$_]/u;
const ID_PART = /[\p{ID_Continue}$\u200c\u200d]/u;

/** Split TypeScript source into tokens, dropping comments and whitespace. Never throws. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  /** Brace depth at which each open `${` of a template literal resumes its template. */
  const templateStack: number[] = [];
  let braceDepth = 0;
  const n = src.length;

  const regexAllowed = (): boolean => {
    const prev = out[out.length - 1];
    if (!prev) return true;
    if (prev.kind === 'punct') return ![')', ']', '}'].includes(prev.value);
    if (prev.kind === 'ident') return REGEX_AFTER_KEYWORD.has(prev.value);
    return false;
  };

  /** Scan template text starting after a backquote or a closing `}`; returns at end or `${`. */
  const scanTemplate = (): void => {
    const startLine = line;
    let text = '';
    while (i < n) {
      const c = src[i] as string;
      if (c === '\\') {
        text += src[i + 1] ?? '';
        if (src[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        out.push({ kind: 'template', value: text, line: startLine });
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        out.push({ kind: 'template', value: text, line: startLine });
        templateStack.push(braceDepth);
        braceDepth++;
        out.push({ kind: 'punct', value: '${', line });
        return;
      } else {
        if (c === '\n') line++;
        text += c;
        i++;
      }
    }
    out.push({ kind: 'template', value: text, line: startLine });
  };

  if (src.startsWith('#!')) {
    while (i < n && src[i] !== '\n') i++;
  }
  while (i < n) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
    } else if (c === '/' && next === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let text = '';
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') {
          text += src[i + 1] ?? '';
          if (src[i + 1] === '\n') line++;
          i += 2;
        } else {
          text += src[i];
          i++;
        }
      }
      i++;
      out.push({ kind: 'string', value: text, line: startLine });
    } else if (c === '`') {
      i++;
      scanTemplate();
    } else if (c === '}' && templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth - 1) {
      templateStack.pop();
      braceDepth--;
      i++;
      scanTemplate();
    } else if (c === '/' && regexAllowed()) {
      const startLine = line;
      let inClass = false;
      let body = '';
      i++;
      while (i < n && src[i] !== '\n') {
        const d = src[i] as string;
        if (d === '\\') {
          body += d + (src[i + 1] ?? '');
          i += 2;
          continue;
        }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        body += d;
        i++;
      }
      i++;
      while (i < n && ID_PART.test(src[i] as string)) i++; // flags
      out.push({ kind: 'regex', value: body, line: startLine });
    } else if (ID_START.test(c) || c === '\\') {
      let j = i + 1;
      while (j < n && ID_PART.test(src[j] as string)) j++;
      out.push({ kind: 'ident', value: src.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(src[j] as string)) j++;
      out.push({ kind: 'number', value: src.slice(i, j), line });
      i = j;
    } else {
      const multi = MULTI_PUNCT.find((p) => src.startsWith(p, i) && !(p === '?.' && /[0-9]/.test(src[i + 2] ?? '')));
      const value = multi ?? c;
      if (value === '{') braceDepth++;
      else if (value === '}') braceDepth--;
      out.push({ kind: 'punct', value, line });
      i += value.length;
    }
  }
  return out;
}

/** How a module reference was written. */
export type ImportKind = 'import' | 'export' | 'require' | 'dynamic';

/** One module reference found in a source file. */
export interface ImportRef {
  specifier: string;
  line: number;
  kind: ImportKind;
  /** `import type …` / `export type … from`: erased at compile time. */
  typeOnly: boolean;
}

const STATEMENT_SCAN_LIMIT = 2000;

function isMember(tokens: Token[], i: number): boolean {
  const prev = tokens[i - 1];
  return prev !== undefined && prev.kind === 'punct' && (prev.value === '.' || prev.value === '?.');
}

/** Find `from '<spec>'` in the statement starting at `start` (stops at `;` or the scan limit). */
function fromClause(tokens: Token[], start: number): Token | undefined {
  for (let j = start; j < tokens.length && j < start + STATEMENT_SCAN_LIMIT; j++) {
    const t = tokens[j] as Token;
    if (t.kind === 'punct' && t.value === ';') return undefined;
    const s = tokens[j + 1];
    if (t.kind === 'ident' && t.value === 'from' && s?.kind === 'string') return s;
    if (t.kind === 'ident' && t.value === 'require') return undefined; // `import x = require(…)`: the require branch has it
  }
  return undefined;
}

/**
 * Every static import, re-export (`export … from`), `require('…')` and `import('…')` with a
 * string-literal specifier. References built at run time (non-literal arguments) are not seen.
 */
export function findImports(tokens: Token[]): ImportRef[] {
  const out: ImportRef[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'ident' || isMember(tokens, i)) continue;
    const a = tokens[i + 1];
    const b = tokens[i + 2];
    const c = tokens[i + 3];
    if (t.value === 'require' || t.value === 'import') {
      if (a?.value === '(' && a.kind === 'punct' && b?.kind === 'string' && c?.value === ')') {
        out.push({ specifier: b.value, line: t.line, kind: t.value === 'require' ? 'require' : 'dynamic', typeOnly: false });
        continue;
      }
    }
    if (t.value === 'import') {
      if (a?.kind === 'string') {
        out.push({ specifier: a.value, line: t.line, kind: 'import', typeOnly: false });
      } else if (a && !(a.kind === 'punct' && (a.value === '.' || a.value === '('))) {
        const spec = fromClause(tokens, i + 1);
        const typeOnly = a.kind === 'ident' && a.value === 'type' && !(b?.kind === 'ident' && b.value === 'from') && b?.value !== ',';
        if (spec) out.push({ specifier: spec.value, line: t.line, kind: 'import', typeOnly });
      }
    } else if (t.value === 'export') {
      const typeOnly = a?.kind === 'ident' && a.value === 'type';
      const first = typeOnly ? b : a;
      if (first?.kind === 'punct' && (first.value === '{' || first.value === '*')) {
        const spec = fromClause(tokens, i + 1);
        if (spec) out.push({ specifier: spec.value, line: t.line, kind: 'export', typeOnly });
      }
    }
  }
  return out;
}

/** Whether token `i` is an object-literal or type-member key (`{ Date: …}`), not a use. */
export function isPropertyKey(tokens: Token[], i: number): boolean {
  const prev = tokens[i - 1];
  const next = tokens[i + 1];
  return (
    next?.kind === 'punct' &&
    (next.value === ':' || next.value === '?') &&
    prev?.kind === 'punct' &&
    (prev.value === '{' || prev.value === ',' || prev.value === ';')
  );
}

/** Whether token `i` is an identifier used directly (not `x.name`, not a property key). */
export function isGlobalUse(tokens: Token[], i: number): boolean {
  const t = tokens[i];
  return t !== undefined && t.kind === 'ident' && !isMember(tokens, i) && !isPropertyKey(tokens, i);
}
