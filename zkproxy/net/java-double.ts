/**
 * Numbers as Java prints a double (Double.toString), where ZooKeeper's monitoring output shows
 * one: mntr's averages, the AdminServer's JSON through Jackson, the Prometheus text. Tools that
 * parse those lines are written against that form: `0.0` for zero, a fraction always, and
 * scientific notation from 10⁷ up and below 10⁻³ (`1.0E7`, `5.0E-4`).
 */

/** `n` as Java's Double.toString writes it (`NaN`, `Infinity` and `-Infinity` included). */
export function javaDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [mantissa, exponent] = n.toExponential().split('e');
    return `${mantissa!.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
  }
  const text = String(n);
  return text.includes('.') ? text : `${text}.0`;
}
