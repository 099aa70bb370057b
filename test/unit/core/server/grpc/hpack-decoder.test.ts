/**
 * HpackDecoder against RFC 7541 Appendix C (C.2 single representations, C.3/C.4 requests
 * without/with Huffman, C.5/C.6 responses with a 256-octet table that evicts), plus size
 * updates, bounds and every decoding error.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HpackDecoder } from '../../../../../core/server/grpc/hpack-decoder';
import { HpackError } from '../../../../../core/server/grpc/hpack-error';
import type { HpackField } from '../../../../../core/server/grpc/hpack-field';

type Pairs = Array<[string, string]>;

const text = (fields: HpackField[]): Pairs => fields.map((f) => [f.name.toString('latin1'), f.value.toString('latin1')]);

/** The dynamic table, newest first, as [name, value] pairs. */
function table(d: HpackDecoder): Pairs {
  const out: Pairs = [];
  for (let i = 1; i <= d.table.length; i++) {
    const f = d.table.get(i)!;
    out.push([f.name.toString('latin1'), f.value.toString('latin1')]);
  }
  return out;
}

interface Step {
  name: string;
  hex: string;
  headers: Pairs;
  table: Pairs;
  size: number;
}

function runSequence(steps: Step[], maxTableSize = 4096): void {
  const d = new HpackDecoder({ maxTableSize });
  for (const step of steps) {
    assert.deepEqual(text(d.decode(Buffer.from(step.hex.replace(/\s/g, ''), 'hex'))), step.headers, step.name);
    assert.deepEqual(table(d), step.table, `${step.name} table`);
    assert.equal(d.table.size, step.size, `${step.name} size`);
  }
}

const REQUESTS_HEADERS: Pairs[] = [
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ],
];
const REQUESTS_TABLES: Array<[Pairs, number]> = [
  [[[':authority', 'www.example.com']], 57],
  [
    [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    110,
  ],
  [
    [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    164,
  ],
];

const requestSteps = (hexes: string[]): Step[] =>
  hexes.map((hex, k) => ({ name: `request ${k + 1}`, hex, headers: REQUESTS_HEADERS[k], table: REQUESTS_TABLES[k][0], size: REQUESTS_TABLES[k][1] }));

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_EXPECT: Array<Omit<Step, 'hex' | 'name'>> = [
  {
    headers: [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOCATION],
    ],
    table: [
      ['location', LOCATION],
      ['date', DATE1],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    size: 222,
  },
  {
    headers: [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOCATION],
    ],
    // ":status: 302" evicted to make room.
    table: [
      [':status', '307'],
      ['location', LOCATION],
      ['date', DATE1],
      ['cache-control', 'private'],
    ],
    size: 222,
  },
  {
    headers: [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', DATE2],
      ['location', LOCATION],
      ['content-encoding', 'gzip'],
      ['set-cookie', COOKIE],
    ],
    table: [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE2],
    ],
    size: 215,
  },
];
const responseSteps = (hexes: string[]): Step[] => hexes.map((hex, k) => ({ name: `response ${k + 1}`, hex, ...RESPONSE_EXPECT[k] }));

describe('HpackDecoder: RFC 7541 Appendix C', () => {
  it('C.2 single representations', () => {
    const cases: Array<[string, string, Pairs, Pairs, boolean]> = [
      ['C.2.1 literal with indexing', '400a637573746f6d2d6b65790d637573746f6d2d686561646572', [['custom-key', 'custom-header']], [['custom-key', 'custom-header']], false],
      ['C.2.2 literal without indexing', '040c2f73616d706c652f70617468', [[':path', '/sample/path']], [], false],
      ['C.2.3 literal never indexed', '100870617373776f726406736563726574', [['password', 'secret']], [], true],
      ['C.2.4 indexed', '82', [[':method', 'GET']], [], false],
    ];
    for (const [name, hex, headers, tableAfter, sensitive] of cases) {
      const d = new HpackDecoder();
      const fields = d.decode(Buffer.from(hex, 'hex'));
      assert.deepEqual(text(fields), headers, name);
      assert.equal(fields[0].sensitive, sensitive, `${name} sensitive`);
      assert.deepEqual(table(d), tableAfter, `${name} table`);
    }
  });

  it('C.3 requests without Huffman', () => {
    runSequence(requestSteps(['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565']));
  });

  it('C.4 requests with Huffman', () => {
    runSequence(requestSteps(['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']));
  });

  it('C.5 responses without Huffman, 256-octet table with eviction', () => {
    runSequence(
      responseSteps([
        '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
        '4803333037c1c0bf',
        `88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157
         454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31`,
      ]),
      256,
    );
  });

  it('C.6 responses with Huffman, 256-octet table with eviction', () => {
    runSequence(
      responseSteps([
        '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
        '4883640effc1c0bf',
        `88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab27
         0fb5291f9587316065c003ed4ee5b1063d5007`,
      ]),
      256,
    );
  });
});

describe('HpackDecoder: table size updates and eviction', () => {
  const literal = (name: string, value: string): string =>
    Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]).toString('hex');

  it('a size update at the start of a block shrinks (evicting) and regrows the table', () => {
    const d = new HpackDecoder({ maxTableSize: 4096 });
    d.decode(Buffer.from(literal('a', '1') + literal('b', '2') + literal('c', '3'), 'hex'));
    assert.deepEqual(table(d), [['c', '3'], ['b', '2'], ['a', '1']]);
    assert.equal(d.table.size, 3 * 34);
    // 0x3f 0x2d = 31 + 45 = 76 octets: room for two entries of 34; "a" goes.
    assert.deepEqual(text(d.decode(Buffer.from('3f2d', 'hex'))), []);
    assert.deepEqual(table(d), [['c', '3'], ['b', '2']]);
    // Two updates in a row (0 then 4096): empties, then regrows; index 62 is then invalid.
    d.decode(Buffer.from('203fe11f', 'hex'));
    assert.equal(d.table.length, 0);
    assert.equal(d.table.maxSize, 4096);
    assert.throws(() => d.decode(Buffer.from('be', 'hex')), HpackError);
  });

  it('an entry larger than the table empties it and is not added (§4.4)', () => {
    const d = new HpackDecoder({ maxTableSize: 64 });
    d.decode(Buffer.from(literal('a', '1'), 'hex'));
    const fields = d.decode(Buffer.from(literal('k', 'x'.repeat(40)), 'hex'));
    assert.equal(fields[0].value.length, 40);
    assert.equal(d.table.length, 0);
    assert.equal(d.table.size, 0);
  });

  it('evicts oldest first across many adds (ring wrap-around)', () => {
    const d = new HpackDecoder({ maxTableSize: 100 }); // room for two 34-octet entries
    for (let k = 0; k < 50; k++) {
      d.decode(Buffer.from(literal('n', String(k % 10)), 'hex'));
      const expect: Pairs = [['n', String(k % 10)]];
      if (k > 0) expect.push(['n', String((k - 1) % 10)]);
      assert.deepEqual(table(d), expect, `after ${k}`);
      // Index 62 is the newest, 63 the one before.
      assert.deepEqual(text(d.decode(Buffer.from('be', 'hex'))), [['n', String(k % 10)]]);
    }
  });

  it('table entries do not share memory with the block they came from', () => {
    const d = new HpackDecoder();
    const block = Buffer.from(literal('key', 'val'), 'hex');
    d.decode(block);
    block.fill(0x7a);
    assert.deepEqual(table(d), [['key', 'val']]);
  });
});

describe('HpackDecoder: decoding errors', () => {
  const cases: Array<[string, string, number?]> = [
    ['indexed 0', '80'],
    ['index past the static table with an empty dynamic table', 'be'],
    ['literal name index past the table', '7f0000'],
    ['truncated integer', 'ff'],
    ['integer too large', 'ffffffffffff0f'],
    ['endless zero continuation octets', 'ff' + '80'.repeat(20) + '00'],
    ['string length past the end', '400a6375'],
    ['truncated: name but no value', '000161'],
    ['huffman with EOS', '0081ff'],
    ['size update above the limit', '3fe21f'],
    ['size update after a field', '8220'],
    ['header list over the bound', '82'.repeat(20), 20 * 32],
  ];
  for (const [name, hex, listBound] of cases) {
    it(name, () => {
      const d = new HpackDecoder({ maxTableSize: 4096, maxHeaderListBytes: listBound });
      assert.throws(() => d.decode(Buffer.from(hex, 'hex')), HpackError);
    });
  }

  it('bounds the decoded size, not the encoded size: indexed references to a large entry', () => {
    const d = new HpackDecoder({ maxHeaderListBytes: 64 * 1024 });
    const big = Buffer.concat([Buffer.from('400178', 'hex'), Buffer.from([0x7f, 0xa1, 0x1e]), Buffer.alloc(4000, 0x61)]); // value: 127 + 33 + 30·128 = 4000 octets
    d.decode(big);
    assert.throws(() => d.decode(Buffer.alloc(100, 0xbe)), /header list above/); // 100 × ~4 KB
  });
});
