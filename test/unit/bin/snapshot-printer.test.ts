/**
 * `snapshot status` output against what etcdctl 3.4.23 printed for an etcd snapshot with hash
 * ffc18af6, revision 3, 6 keys, 20480 bytes (captured from `etcdctl snapshot status -w …`), and
 * go-humanize's byte sizes, including Go's round-half-to-even in `%.0f`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, humanBytes } from '../../../bin/snapshot-printer';

const STATUS = { hash: 4290874102, revision: 3, totalKey: 6, totalSize: 20480 };

test('the four formats, byte for byte as etcdctl 3.4', () => {
  const cases: Array<{ format: 'simple' | 'table' | 'json' | 'fields'; want: string }> = [
    { format: 'simple', want: 'ffc18af6, 3, 6, 20 kB\n' },
    {
      format: 'table',
      want: [
        '+----------+----------+------------+------------+',
        '|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
        '+----------+----------+------------+------------+',
        '| ffc18af6 |        3 |          6 |      20 kB |',
        '+----------+----------+------------+------------+',
        '',
      ].join('\n'),
    },
    { format: 'json', want: '{"hash":4290874102,"revision":3,"totalKey":6,"totalSize":20480}\n' },
    { format: 'fields', want: '"Hash" : 4290874102\n"Revision" : 3\n"Keys" : 6\n"Size" : 20480\n' },
  ];
  for (const c of cases) assert.equal(formatStatus(STATUS, c.format), c.want, c.format);
});

test('a header wider than its column is centred with the odd space on the right', () => {
  const out = formatStatus({ hash: 0x1f, revision: 1234567890123, totalKey: 1, totalSize: 5 }, 'table').split('\n');
  assert.equal(out[1], '| HASH |   REVISION    | TOTAL KEYS | TOTAL SIZE |');
  assert.equal(out[3], '|   1f | 1234567890123 |          1 |        5 B |');
});

test('humanBytes follows go-humanize Bytes', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [9, '9 B'],
    [10, '10 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1549, '1.5 kB'],
    [20480, '20 kB'],
    [20500, '20 kB'], // 20.5: a tie, rounded to even by Go's %.0f
    [21500, '22 kB'],
    [28672, '29 kB'],
    [999_999, '1000 kB'],
    [1_500_000, '1.5 MB'],
    [2_147_483_648, '2.1 GB'], // etcd logs its default quota as "2.1 GB"
  ];
  for (const [n, want] of cases) assert.equal(humanBytes(n), want, String(n));
});
