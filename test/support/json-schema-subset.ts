import { isDeepStrictEqual } from 'node:util';

/** Keywords that only describe; they never make a value invalid. */
const ANNOTATIONS = new Set(['description', 'title', 'summary', 'examples', 'default', 'format', '$comment']);

/** Keywords this checker enforces; any other keyword is an error, so no constraint passes unchecked. */
const ASSERTIONS = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
]);

type Schema = Record<string, unknown>;

function typeOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value];
}

/**
 * Checks values against the JSON Schema subset the AsyncAPI document uses, with draft-07 meaning:
 * `$ref` replaces its siblings, string lengths count code points, `pattern` is an ECMA-262 regex
 * (Unicode mode). A schema using a keyword outside the subset throws instead of passing silently.
 */
export class SchemaChecker {
  /** Every `enum` visited, with the values seen matching it: shows which enum values were exercised. */
  readonly enumsSeen = new Map<readonly unknown[], Set<unknown>>();

  constructor(private readonly resolve: (ref: string) => unknown) {}

  /** The problems with `value`, one line each; empty when it conforms. */
  problems(schema: unknown, value: unknown, path = '$'): string[] {
    if (schema === true) return [];
    if (schema === false) return [`${path}: not allowed`];
    const s = schema as Schema;
    if (typeof s.$ref === 'string') return this.problems(this.resolve(s.$ref), value, path);
    for (const key of Object.keys(s)) {
      if (!ASSERTIONS.has(key) && !ANNOTATIONS.has(key))
        throw new Error(`${path}: schema keyword "${key}" is not supported by the checker`);
    }
    const out: string[] = [];
    if (s.type !== undefined) {
      const allowed = Array.isArray(s.type) ? s.type : [s.type];
      if (!typeOf(value).some((t) => allowed.includes(t))) {
        return [`${path}: expected ${allowed.join(' or ')}, got ${typeOf(value)[0]}`];
      }
    }
    if ('const' in s && !isDeepStrictEqual(s.const, value)) out.push(`${path}: expected ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum)) this.checkEnum(s.enum, value, path, out);
    if (typeof value === 'string') this.checkString(s, value, path, out);
    if (typeof value === 'number') this.checkNumber(s, value, path, out);
    if (Array.isArray(value)) this.checkArray(s, value, path, out);
    else if (typeof value === 'object' && value !== null)
      this.checkObject(s, value as Record<string, unknown>, path, out);
    return out;
  }

  private checkEnum(values: readonly unknown[], value: unknown, path: string, out: string[]): void {
    const seen = this.enumsSeen.get(values) ?? new Set();
    this.enumsSeen.set(values, seen);
    if (values.some((v) => isDeepStrictEqual(v, value))) seen.add(value);
    else out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(values)}`);
  }

  private checkString(s: Schema, value: string, path: string, out: string[]): void {
    const length = [...value].length;
    if (typeof s.minLength === 'number' && length < s.minLength) out.push(`${path}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) out.push(`${path}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
      out.push(`${path}: does not match ${s.pattern}`);
    }
  }

  private checkNumber(s: Schema, value: number, path: string, out: string[]): void {
    if (typeof s.minimum === 'number' && value < s.minimum) out.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) out.push(`${path}: above ${s.maximum}`);
  }

  private checkArray(s: Schema, value: unknown[], path: string, out: string[]): void {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      out.push(`${path}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
    if (s.items !== undefined) {
      for (const [i, item] of value.entries()) out.push(...this.problems(s.items, item, `${path}[${i}]`));
    }
  }

  private checkObject(s: Schema, value: Record<string, unknown>, path: string, out: string[]): void {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    for (const name of (s.required ?? []) as string[]) {
      if (!Object.hasOwn(value, name)) out.push(`${path}: missing required "${name}"`);
    }
    for (const [name, field] of Object.entries(value)) {
      const where = `${path}.${name}`;
      if (Object.hasOwn(properties, name)) out.push(...this.problems(properties[name], field, where));
      else if (s.additionalProperties !== undefined) out.push(...this.problems(s.additionalProperties, field, where));
    }
  }
}

/** Resolves a local JSON pointer (`#/components/schemas/UserId`) in `document`. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key))
      throw new Error(`unresolvable reference ${ref}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
