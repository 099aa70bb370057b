/**
 * `snapshot status` output in etcdctl 3.4's formats (`etcdctl/ctlv3/command/printer*.go`
 * DBStatus), so scripts written against `etcdctl snapshot status -w …` read ours unchanged:
 *
 * - simple: `hash-hex, revision, total keys, human size` (e.g. `ffc18af6, 3, 6, 20 kB`);
 * - table: the same row under `HASH | REVISION | TOTAL KEYS | TOTAL SIZE`, headers centred,
 *   cells right-aligned (tablewriter as etcdctl configures it);
 * - json: `{"hash":N,"revision":N,"totalKey":N,"totalSize":N}`;
 * - fields: `"Hash" : N` lines.
 */
import type { SnapshotStatus } from '../core/server/snapshot-status';

/** The output formats `-w` accepts. */
export const STATUS_FORMATS = ['simple', 'table', 'json', 'fields'] as const;
/** One of {@link STATUS_FORMATS}. */
export type StatusFormat = (typeof STATUS_FORMATS)[number];

/** The text etcdctl would print for `status` in `format`, ending with a newline. */
export function formatStatus(status: SnapshotStatus, format: StatusFormat): string {
  const hex = status.hash.toString(16);
  switch (format) {
    case 'simple':
      return [hex, String(status.revision), String(status.totalKey), humanBytes(status.totalSize)].join(', ') + '\n';
    case 'table':
      return table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [[hex, String(status.revision), String(status.totalKey), humanBytes(status.totalSize)]]);
    case 'json':
      return JSON.stringify({ hash: status.hash, revision: status.revision, totalKey: status.totalKey, totalSize: status.totalSize }) + '\n';
    case 'fields':
      return `"Hash" : ${status.hash}\n"Revision" : ${status.revision}\n"Keys" : ${status.totalKey}\n"Size" : ${status.totalSize}\n`;
  }
}

/** A tablewriter-style box: headers centred (extra space on the right), cells right-aligned. */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const line = (cells: string[]) => '| ' + cells.join(' | ') + ' |\n';
  const centred = headers.map((h, i) => {
    const gap = widths[i]! - h.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + h + ' '.repeat(gap - left);
  });
  let out = rule + line(centred) + rule;
  for (const r of rows) out += line(r.map((c, i) => c.padStart(widths[i]!)));
  return out + rule;
}

const SI_SUFFIXES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/**
 * go-humanize `Bytes` (SI units, base 1000), as etcdctl prints sizes: `9 B`, `20 kB`, `1.5 MB`.
 * One decimal below 10 units; Go's `%.0f` rounds a tie to even, which `toFixed` does not.
 */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / Math.pow(1000, e)) * 10 + 0.5) / 10;
  const suffix = SI_SUFFIXES[e]!;
  if (val < 10) return `${val.toFixed(1)} ${suffix}`;
  const floor = Math.floor(val);
  const rounded = val - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(val);
  return `${rounded} ${suffix}`;
}
