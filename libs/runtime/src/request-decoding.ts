/**
 * Requests that do not decode are the caller's fault: INVALID_ARGUMENT naming
 * the field, not the INTERNAL that grpc-js answers when a deserializer throws
 * (review L4). The generated decoders read 64-bit integers as JS numbers and
 * throw, without the field, for one above 2^53 − 1; so a failed decode is
 * handed to the handler as a {@link MalformedRequest}, which
 * the server's call middleware refuses after finding the field with the
 * descriptor set's reflection (bigint there, so nothing is lost).
 */
import { createFileRegistry, fromBinary, ScalarType } from '@bufbuild/protobuf';
import type { DescField, DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fileDescriptorSet } from '@schedmesh/proto/descriptor';

/** A request that did not decode, and why, in the words of INVALID_ARGUMENT. */
export class MalformedRequest {
  constructor(readonly details: string) {}
}

const int64Types: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

let registry: FileRegistry | undefined;
const messages = (): FileRegistry => (registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, fileDescriptorSet)));

/** The first 64-bit integer in `value` that a JS number cannot hold exactly, as "path: problem". */
function unsafeInteger(desc: DescMessage, value: Record<string, unknown>, prefix: string): string | undefined {
  for (const field of desc.fields) {
    const path = `${prefix}${field.name}`;
    const found = unsafeInField(field, fieldValue(field, value), path);
    if (found !== undefined) return found;
  }
  return undefined;
}

function fieldValue(field: DescField, message: Record<string, unknown>): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const chosen = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return chosen?.case === field.localName ? chosen.value : undefined;
}

function unsafeInField(field: DescField, value: unknown, path: string): string | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return int64Types.has(field.scalar) ? unsafeNumber(value, path) : undefined;
    case 'message':
      return value ? unsafeInteger(field.message, value as Record<string, unknown>, `${path}.`) : undefined;
    case 'list':
      return firstOf(value as unknown[], (item, i) =>
        field.listKind === 'message' ? unsafeInteger(field.message, item as Record<string, unknown>, `${path}[${i}].`) : field.listKind === 'scalar' && int64Types.has(field.scalar) ? unsafeNumber(item, `${path}[${i}]`) : undefined,
      );
    case 'map':
      return firstOf(Object.entries(value as Record<string, unknown>), ([key, item]) =>
        field.mapKind === 'message' ? unsafeInteger(field.message, item as Record<string, unknown>, `${path}[${JSON.stringify(key)}].`) : field.mapKind === 'scalar' && int64Types.has(field.scalar) ? unsafeNumber(item, `${path}[${JSON.stringify(key)}]`) : undefined,
      );
    default:
      return undefined;
  }
}

function firstOf<T>(items: readonly T[], check: (item: T, i: number) => string | undefined): string | undefined {
  for (let i = 0; i < items.length; i++) {
    const found = check(items[i]!, i);
    if (found !== undefined) return found;
  }
  return undefined;
}

function unsafeNumber(value: unknown, path: string): string | undefined {
  if (typeof value !== 'bigint' || (value <= MAX && value >= -MAX)) return undefined;
  return `${path}: ${value} is beyond ±2^53 − 1 (${Number.MAX_SAFE_INTEGER}), the largest integer read exactly`;
}

/** What INVALID_ARGUMENT says about `bytes`, a request of `typeName` that the generated decoder refused. */
export function malformedDetails(typeName: string, bytes: Uint8Array): string {
  const desc = messages().getMessage(typeName);
  if (desc !== undefined) {
    try {
      const found = unsafeInteger(desc, fromBinary(desc, bytes), '');
      if (found !== undefined) return found;
    } catch {
      // Not even valid protobuf: said below.
    }
  }
  return `request: not a valid ${typeName} message`;
}

interface MessageFns {
  decode(input: Uint8Array, length?: number): unknown;
}
interface Method {
  readonly name: string;
  readonly requestType: MessageFns;
}

/**
 * A ts-proto service definition whose request decoders return a
 * {@link MalformedRequest} instead of throwing. Definitions of other shapes
 * (health, reflection) are returned as they are.
 */
export function withMalformedRequests<D extends { readonly fullName: string }>(definition: D): D {
  const methods = (definition as { methods?: Record<string, Method> }).methods;
  const service = messages().getService(definition.fullName);
  if (methods === undefined || service === undefined) return definition;
  const wrapped = Object.fromEntries(
    Object.entries(methods).map(([key, method]) => {
      const input = service.methods.find((m) => m.name === method.name)?.input.typeName;
      if (input === undefined || typeof method.requestType?.decode !== 'function') return [key, method];
      const { requestType } = method;
      const decode = (bytes: Uint8Array, length?: number): unknown => {
        try {
          return requestType.decode(bytes, length);
        } catch {
          return new MalformedRequest(malformedDetails(input, bytes));
        }
      };
      return [key, { ...method, requestType: { ...requestType, decode } }];
    }),
  );
  return { ...definition, methods: wrapped };
}
