/**
 * JSON text as ZooKeeper's AdminServer writes it: Jackson's default pretty printer (`"key" :
 * value`, two-space indents, arrays on one line as `[ a, b ]`, empties as `[ ]` and `{ }`).
 * Values a JSON.stringify cannot carry are kept exact: 64-bit ids as bigint digits, and Java
 * doubles through {@link JsonDouble} (`0.0`, not `0`), so that a tool reading the types sees
 * what it sees from ZooKeeper.
 */
import { javaDouble } from './java-double';

/** A number ZooKeeper writes as a Java double: always with a fraction (`11.2`, `0.0`). */
export class JsonDouble {
  constructor(readonly value: number) {}
}

/** What {@link formatJackson} writes. Object keys keep their insertion order. */
export type JsonValue =
  | string | number | bigint | boolean | null | JsonDouble
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** `value` as Jackson's default pretty printer writes it (no trailing newline). */
export function formatJackson(value: JsonValue): string {
  return write(value, '');
}

function write(v: JsonValue, indent: string): string {
  if (v === null) return 'null';
  if (v instanceof JsonDouble) return double(v.value);
  if (Array.isArray(v)) return v.length === 0 ? '[ ]' : `[ ${v.map((e: JsonValue) => write(e, indent)).join(', ')} ]`;
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'bigint': return v.toString();
    case 'number': return Number.isFinite(v) ? String(v) : '0';
    case 'boolean': return String(v);
    default: return object(v as { readonly [key: string]: JsonValue }, indent);
  }
}

function object(o: { readonly [key: string]: JsonValue }, indent: string): string {
  const keys = Object.keys(o);
  if (keys.length === 0) return '{ }';
  const inner = `${indent}  `;
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)} : ${write(o[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

/** A Java double as Jackson writes one: Double.toString, the non-finite ones as strings. */
function double(n: number): string {
  return Number.isFinite(n) ? javaDouble(n) : `"${javaDouble(n)}"`;
}
