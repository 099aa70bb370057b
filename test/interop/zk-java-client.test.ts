/**
 * Apache ZooKeeper's own Java client (3.8, from the Debian package) against Coracle's
 * ZooKeeper port — the client Kafka, HBase, Solr and Curator sit on. The checks are in
 * test/interop/java/ZkJavaClientCheck.java (create2, containers, TTL, multi with check and
 * per-op results, watches incl. addWatch/removeWatches, getEphemerals, whoAmI, getConfig, ACLs);
 * Curator's framework is exercised too when its jars are found. Needs a JDK (javac).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { javaPath, requirePeer } from '../support/peers';
import { runCommand } from '../support/run-command';
import { zookeeperClasspath } from '../support/zookeeper-peer';
import { startHarness } from './zk-harness';

const SRC = path.resolve(__dirname, '../../../test/interop/java');

function javac(): string | undefined {
  const java = javaPath();
  const candidate = java ? path.join(path.dirname(fs.realpathSync(java)), 'javac') : undefined;
  return candidate && fs.existsSync(candidate) ? candidate : undefined;
}

/** Curator client+framework jars (Debian or a local Maven cache), if both are present. */
function curatorJars(): string[] {
  const found: string[] = [];
  for (const name of ['curator-client', 'curator-framework']) {
    const m2 = path.join(os.homedir(), '.m2/repository/org/apache/curator', name);
    const debian = `/usr/share/java/${name}.jar`;
    let jar: string | undefined = fs.existsSync(debian) ? debian : undefined;
    if (!jar && fs.existsSync(m2)) {
      for (const v of fs.readdirSync(m2).sort().reverse()) {
        const j = path.join(m2, v, `${name}-${v}.jar`);
        if (fs.existsSync(j)) { jar = j; break; }
      }
    }
    if (!jar) return [];
    found.push(jar);
  }
  const guava = '/usr/share/java/guava.jar';
  return fs.existsSync(guava) ? [...found, guava] : [];
}

test('the ZooKeeper Java client (and Curator when present) against Coracle', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const compiler = javac();
  if (!compiler) return t.skip('no javac (install a JDK, e.g. openjdk-17-jdk-headless)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-java-'));
  const h = await startHarness();
  try {
    const curator = curatorJars();
    const cp = [...zookeeperClasspath(), ...curator].join(':');
    const sources = [path.join(SRC, 'ZkJavaClientCheck.java'), ...(curator.length ? [path.join(SRC, 'CuratorCheck.java')] : [])];
    const built = await runCommand(compiler, ['-cp', cp, '-d', out, ...sources], { timeoutMs: 60_000 });
    assert.equal(built.code, 0, `javac failed:\n${built.stderr}`);
    const r = await runCommand(javaPath()!, ['-cp', `${out}:${cp}`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', 'ZkJavaClientCheck', h.connect], { timeoutMs: 60_000 });
    t.diagnostic(r.stdout.split('\n').filter((l) => /^(OK|SKIP|FAIL)/.test(l)).join('\n'));
    assert.doesNotMatch(r.stdout, /^FAIL/m, r.stdout);
    assert.match(r.stdout, /^DONE$/m, `${r.stdout}\n${r.stderr}`);
  } finally {
    await h.stop();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
