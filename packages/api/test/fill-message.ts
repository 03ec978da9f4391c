// Test helper: builds a message with EVERY field set to a non-default value via protobuf-es reflection,
// so a round trip exercises each field number/type of the schema. Oneofs: `variant` picks which member.
import { create, type DescField, type DescMessage, type Message, ScalarType } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';

const MAX_DEPTH = 3;

export function sampleScalar(type: ScalarType, seed: number): unknown {
  switch (type) {
    case ScalarType.STRING:
      return `s${seed}-é`;
    case ScalarType.BYTES:
      return new Uint8Array([seed & 0xff, 0, 0xff, 7]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return seed + 0.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return -BigInt(seed) * 1_000_000_007n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(seed) * 1_000_000_007n;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return -seed;
    default:
      return seed + 300;
  }
}

function sampleEnum(field: DescField): number {
  const values = field.enum?.values ?? [];
  const last = values[values.length - 1];
  return last?.number ?? 0;
}

function sampleSingular(field: DescField, depth: number, variant: number, seed: number): unknown {
  if (field.message) return fillReflect(field.message, depth + 1, variant);
  if (field.enum) return sampleEnum(field);
  if (field.scalar !== undefined) return sampleScalar(field.scalar, seed);
  throw new Error(`cannot sample field ${(field as DescField).name}`);
}

function fillField(r: ReflectMessage, field: DescField, depth: number, variant: number): void {
  const seed = field.number;
  switch (field.fieldKind) {
    case 'list': {
      const list = r.get(field);
      for (let i = 0; i < 2; i++) list.add(sampleSingular(field, depth, variant, seed + i));
      return;
    }
    case 'map': {
      const map = r.get(field);
      const key = field.mapKey === ScalarType.STRING ? `k${seed}` : sampleScalar(field.mapKey, seed);
      map.set(key, sampleSingular(field, depth, variant, seed));
      return;
    }
    default:
      r.set(field, sampleSingular(field, depth, variant, seed));
  }
}

function fillReflect(schema: DescMessage, depth: number, variant: number): ReflectMessage {
  const r = reflect(schema, create(schema));
  if (depth > MAX_DEPTH) return r;
  for (const member of schema.members) {
    if (member.kind === 'oneof') {
      const chosen = member.fields[variant % member.fields.length];
      if (chosen) fillField(r, chosen, depth, variant);
    } else {
      fillField(r, member, depth, variant);
    }
  }
  return r;
}

/** Number of oneof variants needed so every oneof member is chosen at least once. */
export function variantCount(schema: DescMessage): number {
  return Math.max(1, ...schema.oneofs.map((o) => o.fields.length));
}

export function fillMessage(schema: DescMessage, variant = 0): Message {
  return fillReflect(schema, 0, variant).message;
}

/** Fields of the top-level message left unset (should be none besides unchosen oneof members). */
export function unsetFields(schema: DescMessage, message: Message): string[] {
  const r = reflect(schema, message);
  return schema.fields.filter((f) => f.oneof === undefined && !r.isSet(f)).map((f) => f.name);
}
