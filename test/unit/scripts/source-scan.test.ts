/**
 * The tokenizer behind the boundary check: code is told apart from comments, strings,
 * templates and regexes, and line numbers stay right across multi-line tokens.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findImports, tokenize } from '../../../scripts/source-scan';

const idents = (src: string): string[] => tokenize(src).filter((t) => t.kind === 'ident').map((t) => `${t.line}:${t.value}`);

const CASES: Array<{ name: string; src: string; idents: string[] }> = [
  { name: 'comments are dropped, lines counted', src: '/* a\nb */ x // y\nz', idents: ['2:x', '3:z'] },
  { name: 'strings are not code', src: "a('b c', \"d\\\"e\")", idents: ['1:a'] },
  { name: 'template text is not code, substitutions are', src: 'a`x ${b + `y ${c}`} z\n`; d', idents: ['1:a', '1:b', '1:c', '2:d'] },
  { name: 'braces inside a substitution', src: 'a`${ {k: b}.k }`; c', idents: ['1:a', '1:k', '1:b', '1:k', '1:c'] },
  { name: 'regex after = is skipped', src: "x = /'[/]'/g; y", idents: ['1:x', '1:y'] },
  { name: 'division after ) or identifier', src: 'a = (b) / c / d', idents: ['1:a', '1:b', '1:c', '1:d'] },
  { name: 'regex after return', src: 'return /x"/.test(s)', idents: ['1:return', '1:test', '1:s'] },
  { name: 'shebang line', src: '#!/usr/bin/env node\nx', idents: ['2:x'] },
];

for (const c of CASES) {
  test(`tokenize: ${c.name}`, () => {
    assert.deepEqual(idents(c.src), c.idents);
  });
}

test('findImports: kinds, type-only and lines', () => {
  const src = [
    "import type { A } from './a';",
    "import type from './b';",
    "import { type C, d } from './c';",
    "export type { E } from './e';",
    "export const f = 1;",
    "const g = x.require('./not');",
    "const h = require('./h');",
    "const i = import.meta;",
    "export * as j from './j';",
  ].join('\n');
  assert.deepEqual(
    findImports(tokenize(src)).map((r) => `${r.line}:${r.kind}:${r.typeOnly ? 'type' : 'value'}:${r.specifier}`),
    ['1:import:type:./a', '2:import:value:./b', '3:import:value:./c', '4:export:type:./e', '7:require:value:./h', '9:export:value:./j'],
  );
});
