/**
 * The boundary checker on fixture trees: each case writes a few files into a scratch repository
 * (with a package.json and fake installed packages) and lists exactly the violations expected,
 * as `file:line` plus a fragment of the rule text. Cases without expectations prove the rule
 * does not fire on allowed code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkBoundaries, formatViolations } from '../../../scripts/check-boundaries';
import { createTempDir, removeTempDir } from '../../support/temp-dir';

/** Files present in every fixture, so that imports of them resolve. */
const BASE: Record<string, string> = {
  'package.json': JSON.stringify({
    dependencies: { lmdb: '1', '@grpc/grpc-js': '1', pino: '1' },
    devDependencies: { 'fast-check': '1' },
    optionalDependencies: { 'native-addon': '1', 'absent-addon': '1' },
  }),
  'node_modules/lmdb/package.json': '{}',
  'node_modules/@grpc/grpc-js/package.json': '{}',
  'node_modules/pino/package.json': '{}',
  'node_modules/fast-check/package.json': '{}',
  'node_modules/leftpad/package.json': '{}',
  'node_modules/native-addon/package.json': '{}',
  'core/index.ts': 'export const x = 1;\n',
  'core/util/assert.ts': 'export const a = 1;\n',
  'core/storage/backend.ts': 'export const b = 1;\n',
  'core/storage/schema.ts': 'export const s = 1;\n',
  'core/storage/lmdb-backend.ts': "import { open } from 'lmdb';\nexport const o = open;\n",
  'core/lease/lessor.ts': 'export const l = 1;\n',
  'core/mvcc/kv-store.ts': 'export const k = 1;\n',
  'core/server/server.ts': 'export const srv = 1;\n',
  'protocol/jute/index.ts': 'export const j = 1;\n',
  'zkproxy/backend/kv-backend.ts': 'export const kv = 1;\n',
  'test/support/ports.ts': 'export const p = 1;\n',
};

interface Case {
  name: string;
  files: Record<string, string>;
  /** `file:line` → fragment of the rule text. */
  expect: Array<[string, string]>;
}

const CASES: Case[] = [
  {
    name: 'protocol must not import core or zkproxy',
    files: {
      'protocol/etcd/a.ts': "import { x } from '../../core/index';\nimport { kv } from '../../zkproxy/backend/kv-backend';\nimport { j } from '../jute';\nimport * as grpc from '@grpc/grpc-js';\n",
    },
    expect: [
      ['protocol/etcd/a.ts:1', 'protocol/ must not import core'],
      ['protocol/etcd/a.ts:2', 'protocol/ must not import core or zkproxy'],
    ],
  },
  {
    name: 'core/raft imports only core/util and core/raft, no packages or node:',
    files: {
      'core/raft/raft.ts': "import { a } from '../util/assert';\nimport { r } from './log';\nimport { b } from '../storage/backend';\nimport { randomBytes } from 'node:crypto';\nimport pino from 'pino';\n",
      'core/raft/log.ts': 'export const r = 1;\n',
    },
    expect: [
      ['core/raft/raft.ts:3', 'core/raft may import only core/util and core/raft'],
      ['core/raft/raft.ts:4', 'no package or node: module'],
      ['core/raft/raft.ts:5', 'no package or node: module'],
    ],
  },
  {
    name: 'core/raft uses no clock, timers, randomness or process',
    files: {
      'core/raft/tick.ts': [
        'export function f(clock: Clock, o: { process: { x: number } }) {',
        '  const t = Date.now();',
        '  const r = Math.random();',
        '  setTimeout(() => {}, 1);',
        '  const e = process.env.X;',
        '  clock.setTimeout();',
        '  const k = { Date: 1, process: 2 };',
        '  // Date.now() and setTimeout in a comment are fine',
        "  const s = 'Math.random() in a string is fine';",
        '  const m = `elapsed ${performance.now()}`;',
        '  return [t, r, e, k, s, m, Math.floor(1), o.process.x];',
        '}',
        'export const g = globalThis;',
        'export const p = process?.pid;',
      ].join('\n'),
    },
    expect: [
      ['core/raft/tick.ts:2', 'must not read the clock (Date)'],
      ['core/raft/tick.ts:3', 'Math.random'],
      ['core/raft/tick.ts:4', 'must not use timers (setTimeout)'],
      ['core/raft/tick.ts:5', 'process.*'],
      ['core/raft/tick.ts:10', 'must not read the clock (performance)'],
      ['core/raft/tick.ts:13', 'globalThis'],
      ['core/raft/tick.ts:14', 'process.*'],
    ],
  },
  {
    name: 'the same identifiers are allowed outside core/raft',
    files: { 'core/server/timer.ts': 'export const t = Date.now() + Math.random();\nsetTimeout(() => {}, 1);\nexport const e = process.env.X;\n' },
    expect: [],
  },
  {
    name: 'mvcc/lease/auth/apply import only backend.ts, schema.ts, core/util and each other',
    files: {
      'core/mvcc/kv.ts': [
        "import { b } from '../storage/backend';",
        "import { s } from '../storage/schema';",
        "import { a } from '../util/assert';",
        "import { l } from '../lease/lessor';",
        "import { o } from '../storage/lmdb-backend';",
        "import { srv } from '../server/server';",
        "import * as net from 'node:net';",
        "import * as grpc from '@grpc/grpc-js';",
        "import * as crypto from 'node:crypto';",
      ].join('\n'),
    },
    expect: [
      ['core/mvcc/kv.ts:5', 'may import only core/storage/backend.ts'],
      ['core/mvcc/kv.ts:6', 'may import only core/storage/backend.ts'],
      ['core/mvcc/kv.ts:7', 'must not import lmdb, grpc or node:net'],
      ['core/mvcc/kv.ts:8', 'must not import lmdb, grpc or node:net'],
    ],
  },
  {
    name: 'only lmdb-backend.ts imports lmdb',
    files: {
      'core/storage/other.ts': "import { open } from 'lmdb';\n",
      'test/unit/core/storage/lmdb.test.ts': "const lmdb = require('lmdb');\n",
    },
    expect: [
      ['core/storage/other.ts:1', 'only core/storage/lmdb-backend.ts may import lmdb'],
      ['test/unit/core/storage/lmdb.test.ts:1', 'only core/storage/lmdb-backend.ts may import lmdb'],
    ],
  },
  {
    name: 'core (server, cluster, any) must not import zkproxy',
    files: {
      'core/server/zk.ts': "import { kv } from '../../zkproxy/backend/kv-backend';\n",
      'core/cluster/zk.ts': "export { kv } from '../../zkproxy/backend/kv-backend';\n",
    },
    expect: [
      ['core/cluster/zk.ts:1', 'core/ must not import zkproxy'],
      ['core/server/zk.ts:1', 'core/ must not import zkproxy'],
    ],
  },
  {
    name: 'zkproxy reaches core only via local-backend.ts → core/index.ts',
    files: {
      'zkproxy/ops/get.ts': "import { x } from '../../core/index';\nimport { j } from '../../protocol/jute';\nimport { kv } from '../backend/kv-backend';\n",
      'zkproxy/backend/local-backend.ts': "import { x } from '../../core';\nimport type { k } from '../../core/mvcc/kv-store';\n",
    },
    expect: [
      ['zkproxy/backend/local-backend.ts:2', 'may import only core/index.ts'],
      ['zkproxy/ops/get.ts:1', 'only through zkproxy/backend/local-backend.ts'],
    ],
  },
  {
    name: 'no console in library code; bin, test and scripts may print',
    files: {
      'core/server/log.ts': "console.log('x');\nconst logger = { console: 1 };\nexport const c = logger.console;\n",
      'zkproxy/net/log.ts': 'console.error(1);\n',
      'protocol/jute/log.ts': 'console.warn(1);\n',
      'bin/coracle.ts': "console.log('hi');\n",
      'scripts/x.ts': "console.log('hi');\n",
    },
    expect: [
      ['core/server/log.ts:1', 'no console.*'],
      ['protocol/jute/log.ts:1', 'no console.*'],
      ['zkproxy/net/log.ts:1', 'no console.*'],
    ],
  },
  {
    name: 'every import resolves (.ts, .js→.ts, directory index, json)',
    files: {
      'core/util/a.ts': [
        "import { b } from './assert.js';",
        "import { x } from '../index';",
        "import { c } from './missing';",
        "import data from './data.json';",
        "import x2 from 'not-installed';",
      ].join('\n'),
      'core/util/data.json': '{}',
      'bin/coracle.ts': "import { x } from '../core';\nimport { y } from '../core/nope';\n",
    },
    expect: [
      ['bin/coracle.ts:2', "'../core/nope' does not resolve"],
      ['core/util/a.ts:2', 'core/util is the leaf of core'],
      ['core/util/a.ts:3', "'./missing' does not resolve"],
      ['core/util/a.ts:5', "'not-installed' does not resolve"],
    ],
  },
  {
    name: 'packages must be declared; shipped code uses dependencies, type-only and build tools may use devDependencies',
    files: {
      'core/index.ts': "export * from './server/fc';\nexport type { T } from './server/types-only';\n",
      'core/server/fc.ts': "import fc from 'fast-check';\nimport type { Arbitrary } from 'fast-check';\nimport lp from 'leftpad';\n",
      'core/server/types-only.ts': "import fc from 'fast-check';\n",
      'protocol/etcd/codegen/gen.ts': "import fc from 'fast-check';\n",
      'test/unit/x.test.ts': "import fc from 'fast-check';\nimport lp from 'leftpad';\nimport pino from 'pino';\n",
    },
    expect: [
      ['core/server/fc.ts:1', "must be in package.json \"dependencies\""],
      ['core/server/fc.ts:3', "must be in package.json \"dependencies\""],
      ['test/unit/x.test.ts:2', "'leftpad' is not declared"],
    ],
  },
  {
    name: 'an optionalDependency is for code that does not ship, like a devDependency, installed or not',
    files: {
      'core/index.ts': "export * from './server/addon';\n",
      'core/server/addon.ts': "import addon from 'native-addon';\nimport gone from 'absent-addon';\n",
      'test/interop/y.test.ts': "const addon = require('native-addon');\nconst gone = require('absent-addon');\n",
    },
    expect: [
      ['core/server/addon.ts:1', "must be in package.json \"dependencies\""],
      ['core/server/addon.ts:2', "must be in package.json \"dependencies\""],
    ],
  },
  {
    name: 'library code must not import test, bench, scripts or bin',
    files: { 'core/server/uses-test.ts': "import { p } from '../../test/support/ports';\n" },
    expect: [['core/server/uses-test.ts:1', 'library code must not import test/']],
  },
  {
    name: 'all import forms are seen: require, import(), export * from, import = require, multi-line',
    files: {
      'protocol/jute/forms.ts': [
        "const a = require('../../core/index');",
        "const b = import('../../core/index');",
        "export * from '../../core/index';",
        "export type { x } from '../../core/index';",
        "import c = require('../../core/index');",
        'import {',
        '  x,',
        "} from '../../core/index';",
        "import '../../core/index';",
      ].join('\n'),
    },
    expect: [
      ['protocol/jute/forms.ts:1', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:2', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:3', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:4', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:5', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:6', 'protocol/ must not import core'],
      ['protocol/jute/forms.ts:9', 'protocol/ must not import core'],
    ],
  },
  {
    name: 'imports inside strings, templates, comments and after regex literals',
    files: {
      'test/unit/fixture.test.ts': [
        "const src = \"import { x } from 'lmdb';\";",
        "const tpl = `import { y } from '../../core/nope'; ${'require(\"lmdb\")'}`;",
        "// import { z } from 'lmdb';",
        "/* require('lmdb') */",
        "const re = /['\"`]/g;",
        "import { p } from '../support/missing';",
        'const div = 4 / 2; const re2 = /\\/\\*/;',
        "import { q } from '../support/also-missing';",
      ].join('\n'),
    },
    expect: [
      ['test/unit/fixture.test.ts:6', "'../support/missing' does not resolve"],
      ['test/unit/fixture.test.ts:8', "'../support/also-missing' does not resolve"],
    ],
  },
];

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

for (const c of CASES) {
  test(`check-boundaries: ${c.name}`, () => {
    const root = createTempDir('coracle-boundaries-');
    try {
      writeTree(root, { ...BASE, ...c.files });
      const { violations } = checkBoundaries(root);
      const got = violations.map((v) => `${v.file}:${v.line}: ${v.rule}`);
      assert.equal(got.length, c.expect.length, `expected ${c.expect.length} violation(s), got:\n${got.join('\n')}`);
      c.expect.forEach(([where, fragment], i) => {
        const g = got[i] as string;
        assert.ok(g.startsWith(`${where}: `) && g.includes(fragment), `violation ${i}: expected ${where} ~ "${fragment}", got "${g}"`);
      });
    } finally {
      removeTempDir(root);
    }
  });
}

test('check-boundaries: the base fixture itself is clean', () => {
  const root = createTempDir('coracle-boundaries-');
  try {
    writeTree(root, BASE);
    assert.deepEqual(checkBoundaries(root).violations, []);
  } finally {
    removeTempDir(root);
  }
});

test('check-boundaries: the CLI prints file:line: rule and exits 1', () => {
  const root = createTempDir('coracle-boundaries-');
  try {
    writeTree(root, { ...BASE, 'core/raft/bad.ts': 'export const now = Date.now();\n' });
    const script = path.resolve(__dirname, '../../../scripts/check-boundaries.js');
    const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^core\/raft\/bad\.ts:1: core\/raft must not read the clock \(Date\)/m);
    assert.match(r.stderr, /1 violation\(s\)/);
    assert.equal(formatViolations([{ file: 'a.ts', line: 3, rule: 'r' }]), 'a.ts:3: r');
  } finally {
    removeTempDir(root);
  }
});

test('check-boundaries: the CLI exits 0 on a clean tree', () => {
  const root = createTempDir('coracle-boundaries-');
  try {
    writeTree(root, BASE);
    const script = path.resolve(__dirname, '../../../scripts/check-boundaries.js');
    const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no violations/);
  } finally {
    removeTempDir(root);
  }
});
