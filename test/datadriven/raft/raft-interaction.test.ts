/**
 * Runs every raft interaction script in testdata/. Regenerate expectations with
 * `REWRITE=1 node --test dist/test/datadriven/raft/` and review the diff.
 */
import { test } from 'node:test';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runScript } from './datadriven';
import { handle } from './interaction-handlers';
import { InteractionEnv } from './interaction-env';

/** testdata/ in the source tree: from dist/test/datadriven/raft, or from the repo root. */
function testdataDir(): string {
  const fromDist = path.resolve(__dirname, '../../../../test/datadriven/raft/testdata');
  if (existsSync(fromDist)) return fromDist;
  return path.resolve(process.cwd(), 'test/datadriven/raft/testdata');
}

const dir = testdataDir();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`raft interaction: ${file}`, () => {
    const env = new InteractionEnv();
    runScript(path.join(dir, file), (tc) => handle(env, tc));
  });
}
