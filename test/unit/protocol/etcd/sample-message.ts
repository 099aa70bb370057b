/**
 * Test helper: messages of any generated type with every field set to a non-default value,
 * built from the descriptor tables (so new fields are covered without editing tests).
 */
import { ENUM_TYPES, MESSAGE_TYPES } from '../../../../protocol/etcd';
import type { FieldInfo } from '../../../../protocol/etcd';

/** A sample value for `f`; `seed` varies values between fields. */
function sampleValue(f: FieldInfo, seed: number, depth: number): unknown {
  switch (f.type) {
    case 'int64':
      return seed % 2 === 0 ? BigInt(seed) * 1_000_000_007n : -BigInt(seed) - (1n << 40n);
    case 'uint64':
      return (1n << 63n) + BigInt(seed);
    case 'int32':
    case 'uint32':
      return seed + 1;
    case 'bool':
      return true;
    case 'string':
      return `s${seed}-é`;
    case 'bytes':
      return Buffer.from([seed & 0xff, 0, 0xff]);
    case 'enum': {
      const values = ENUM_TYPES[f.typeName!]!.values;
      return values[values.length - 1]![1];
    }
    case 'message':
      return sampleMessage(f.typeName!, seed + 1, depth + 1);
  }
}

/** A message of `typeName` with every field set (each oneof to its `pick`-th member); stops at depth 3. */
export function sampleMessage(typeName: string, seed: number, depth: number, pick = 0): Record<string, unknown> {
  const info = MESSAGE_TYPES[typeName]!;
  const out: Record<string, unknown> = {};
  if (depth > 3) return out;
  const oneofSeen = new Map<string, number>();
  for (const f of info.fields) {
    seed++;
    if (f.oneof !== undefined) {
      const i = oneofSeen.get(f.oneof) ?? 0;
      oneofSeen.set(f.oneof, i + 1);
      if (i === pick) out[f.oneof] = { $case: f.jsonName, [f.jsonName]: sampleValue(f, seed, depth) };
      continue;
    }
    out[f.jsonName] = f.repeated ? [sampleValue(f, seed, depth), sampleValue(f, seed + 7, depth)] : sampleValue(f, seed, depth);
  }
  return out;
}

/** The largest number of members of any oneof of `typeName` (1 if it has none). */
export function maxOneofArms(typeName: string): number {
  const counts = new Map<string, number>();
  for (const f of MESSAGE_TYPES[typeName]!.fields) if (f.oneof !== undefined) counts.set(f.oneof, (counts.get(f.oneof) ?? 0) + 1);
  return Math.max(1, ...counts.values());
}

