/**
 * SCIM filters (RFC 7644 §3.4.2.2): parsed by `scim2-parse-filter` (a maintained,
 * widely used parser of the grammar), then checked and evaluated here against the
 * attribute definitions of schemas.ts, because only those know which attributes exist,
 * which compare case-exactly (`userName` does not, `displayName` of a Group does) and
 * which are dates. The library's own evaluator compares every string exactly, which is
 * wrong for `userName`.
 *
 * Also says which part of a filter an index can answer (`indexableEquality`): a
 * `userName eq` is one indexed Query, never a read of the whole org.
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { AppError } from '../errors.js';
import { findAttribute, GROUP_ATTRIBUTES, SCHEMA, USER_ATTRIBUTES, type AttributeDefinition } from './schemas.js';

export type ScimResourceType = 'User' | 'Group';

/** Common attributes (RFC 7643 §3.1) every resource has besides its schema's. */
const COMMON_ATTRIBUTES: AttributeDefinition[] = [
  { name: 'id', type: 'string', multiValued: false, description: '', required: false, caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' },
  { name: 'externalId', type: 'string', multiValued: false, description: '', required: false, caseExact: true, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
  {
    name: 'meta',
    type: 'complex',
    multiValued: false,
    description: '',
    required: false,
    caseExact: false,
    mutability: 'readOnly',
    returned: 'default',
    uniqueness: 'none',
    subAttributes: ['created', 'lastModified'].map((name) => ({
      name,
      type: 'dateTime' as const,
      multiValued: false,
      description: '',
      required: false,
      caseExact: false,
      mutability: 'readOnly' as const,
      returned: 'default' as const,
      uniqueness: 'none' as const,
    })),
  },
];

export const attributesOf = (type: ScimResourceType): AttributeDefinition[] => [...COMMON_ATTRIBUTES, ...(type === 'User' ? USER_ATTRIBUTES : GROUP_ATTRIBUTES)];

export const invalidFilter = (detail: string, cause?: unknown) => new AppError('VALIDATION_FAILED', detail, { details: { scimType: 'invalidFilter' }, cause });

/** `urn:…:User:userName` → `userName`: the core schema's URN prefix is optional in paths. */
export function stripSchemaPrefix(path: string, type: ScimResourceType): string {
  const urn = type === 'User' ? SCHEMA.user : SCHEMA.group;
  return path.toLowerCase().startsWith(`${urn.toLowerCase()}:`) ? path.slice(urn.length + 1) : path;
}

/** The attribute a filter path names, a complex one standing for its `value` (`emails eq` is `emails.value eq`). */
function resolve(type: ScimResourceType, path: string, parent?: AttributeDefinition): { definition: AttributeDefinition; path: string } {
  const attributes = parent?.subAttributes ?? attributesOf(type);
  const clean = parent ? path : stripSchemaPrefix(path, type);
  let definition = findAttribute(attributes, clean);
  let resolved = clean;
  if (definition?.type === 'complex' && definition.subAttributes) {
    const value = definition.subAttributes.find((sub) => sub.name === 'value');
    if (value) {
      definition = value;
      resolved = `${clean}.value`;
    }
  }
  if (!definition || definition.type === 'complex') throw invalidFilter(`The filter names an attribute this service does not filter on: "${path}".`);
  return { definition, path: resolved };
}

/** A parsed filter whose attributes are known; compare values are coerced to the attribute's type. */
export type CheckedFilter =
  | { op: 'and' | 'or'; filters: CheckedFilter[] }
  | { op: 'not'; filter: CheckedFilter }
  | { op: '[]'; path: string; definition: AttributeDefinition; filter: CheckedFilter }
  | { op: 'pr'; path: string; definition: AttributeDefinition }
  | { op: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'; path: string; definition: AttributeDefinition; value: string | boolean | null };

function check(type: ScimResourceType, filter: Filter, parent?: AttributeDefinition): CheckedFilter {
  const op = filter.op.toLowerCase();
  if (op === 'and' || op === 'or') return { op, filters: (filter as { filters: Filter[] }).filters.map((sub) => check(type, sub, parent)) };
  if (op === 'not') return { op, filter: check(type, (filter as { filter: Filter }).filter, parent) };
  if (op === '[]') {
    const { attrPath, valFilter } = filter as { attrPath: string; valFilter: Filter };
    const definition = findAttribute(parent?.subAttributes ?? attributesOf(type), parent ? attrPath : stripSchemaPrefix(attrPath, type));
    if (!definition?.subAttributes) throw invalidFilter(`"${attrPath}[…]" filters an attribute that has no sub-attributes.`);
    return { op, path: stripSchemaPrefix(attrPath, type), definition, filter: check(type, valFilter, definition) };
  }
  const { attrPath } = filter as { attrPath: string };
  const { definition, path } = resolve(type, attrPath, parent);
  if (op === 'pr') return { op, path, definition };
  if (!['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'].includes(op)) throw invalidFilter(`Unknown filter operator "${filter.op}".`);
  const raw = (filter as { compValue: unknown }).compValue;
  let value: string | boolean | null;
  if (definition.type === 'boolean') {
    // Entra ID sends booleans as strings ("True", "False").
    const text = String(raw).toLowerCase();
    if (text !== 'true' && text !== 'false') throw invalidFilter(`"${attrPath}" is a boolean: compare it with true or false.`);
    if (!['eq', 'ne'].includes(op)) throw invalidFilter(`"${attrPath}" is a boolean: only eq and ne apply.`);
    value = text === 'true';
  } else if (raw === null) {
    value = null;
  } else if (typeof raw === 'string') {
    value = raw;
    if (definition.type === 'dateTime' && Number.isNaN(Date.parse(raw))) throw invalidFilter(`"${attrPath}" is a date-time: "${raw}" is not one.`);
  } else {
    throw invalidFilter(`"${attrPath}" is a string: compare it with a quoted value.`);
  }
  return { op: op as 'eq', path, definition, value };
}

/**
 * Parses and checks a filter for one resource type.
 * @throws AppError `VALIDATION_FAILED` with `scimType: "invalidFilter"` (400)
 * @example parseFilter('userName eq "kate@acme.test"', 'User')
 */
export function parseFilter(text: string, type: ScimResourceType): CheckedFilter {
  if (text.length > 4096) throw invalidFilter('The filter is longer than 4096 characters.');
  let parsed: Filter;
  try {
    parsed = parse(text);
  } catch (cause) {
    throw invalidFilter(`The filter is not valid SCIM filter syntax: ${text.slice(0, 200)}`, cause);
  }
  return check(type, parsed);
}

/** The values at a dotted path of a resource, through multi-valued attributes; names case-insensitive. */
export function valuesAt(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  for (const name of path.split('.')) {
    const next: unknown[] = [];
    for (const item of current.flatMap((value) => (Array.isArray(value) ? value : [value]))) {
      if (item === null || typeof item !== 'object') continue;
      const key = Object.keys(item).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
      if (key !== undefined) next.push((item as Record<string, unknown>)[key]);
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value])).filter((value) => value !== undefined && value !== null);
}

function compare(op: string, definition: AttributeDefinition, actual: unknown, expected: string | boolean): boolean {
  if (typeof expected === 'boolean') return op === 'eq' ? actual === expected : actual !== expected;
  if (typeof actual !== 'string') return false;
  if (definition.type === 'dateTime') {
    const [a, b] = [Date.parse(actual), Date.parse(expected)];
    return { eq: a === b, ne: a !== b, gt: a > b, ge: a >= b, lt: a < b, le: a <= b, co: actual.includes(expected), sw: actual.startsWith(expected), ew: actual.endsWith(expected) }[op] ?? false;
  }
  const [a, b] = definition.caseExact ? [actual, expected] : [actual.toLowerCase(), expected.toLowerCase()];
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'co': return a.includes(b);
    case 'sw': return a.startsWith(b);
    case 'ew': return a.endsWith(b);
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    default: return false;
  }
}

/** Whether a resource (its SCIM representation) matches the filter. */
export function matches(filter: CheckedFilter, resource: unknown): boolean {
  switch (filter.op) {
    case 'and': return filter.filters.every((sub) => matches(sub, resource));
    case 'or': return filter.filters.some((sub) => matches(sub, resource));
    case 'not': return !matches(filter.filter, resource);
    case '[]': return valuesAt(resource, filter.path).some((element) => matches(filter.filter, element));
    case 'pr': return valuesAt(resource, filter.path).some((value) => value !== '' && !(Array.isArray(value) && value.length === 0));
    default: {
      const values = valuesAt(resource, filter.path);
      // `eq null` is absence, `ne null` presence (RFC 7644 §3.4.2.2).
      const expected = filter.value;
      if (expected === null) return filter.op === 'eq' ? values.length === 0 : filter.op === 'ne' ? values.length > 0 : false;
      // ne: no value equals (an absent attribute is "not equal").
      if (filter.op === 'ne') return !values.some((value) => compare('eq', filter.definition, value, expected));
      return values.some((value) => compare(filter.op, filter.definition, value, expected));
    }
  }
}

/**
 * An equality on `attribute` that every match must satisfy (the filter itself, or a
 * conjunct of a top-level `and`), so an index lookup by it finds every candidate.
 * @example indexableEquality(parseFilter('userName eq "a" and active eq true', 'User'), 'userName') // 'a'
 */
export function indexableEquality(filter: CheckedFilter, attribute: string): string | undefined {
  if (filter.op === 'eq' && filter.path.toLowerCase() === attribute.toLowerCase() && typeof filter.value === 'string') return filter.value;
  if (filter.op === 'and') {
    for (const sub of filter.filters) {
      const found = indexableEquality(sub, attribute);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
