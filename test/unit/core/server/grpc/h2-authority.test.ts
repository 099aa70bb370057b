/**
 * normalizeAuthority: URL-shaped authorities reduce to their authority part; everything else is
 * left alone (undefined) for node:http2 to judge as before.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAuthority } from '../../../../../core/server/grpc/h2-authority';

describe('normalizeAuthority', () => {
  const cases: Array<[string, string | undefined]> = [
    ['http://127.0.0.1:2379', '127.0.0.1:2379'],
    ['https://etcd.example:2379', 'etcd.example:2379'],
    ['http://127.0.0.1:2379/', '127.0.0.1:2379'],
    ['http://127.0.0.1:2379/some/path?q=1', '127.0.0.1:2379'],
    ['HTTP://[::1]:2379', '[::1]:2379'],
    ['unix+x.y-z://host', 'host'],
    ['http://host?x', 'host'],
    ['http://host#frag', 'host'],
    ['127.0.0.1:2379', undefined], // already fine
    ['localhost', undefined],
    ['', undefined],
    ['host/path', undefined], // no scheme: not ours to guess
    ['http:/host', undefined],
    ['http:///path', undefined], // empty authority
    ['http://', undefined],
    ['1http://host', undefined], // a scheme starts with a letter
    ['ht tp://host', undefined],
    ['://host', undefined],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => {
      const out = normalizeAuthority(Buffer.from(input, 'latin1'));
      assert.equal(out === undefined ? undefined : out.toString('latin1'), expected);
    });
  }
});
