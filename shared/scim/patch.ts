/**
 * SCIM PATCH (RFC 7644 §3.5.2), applied by `scim-patch` (maintained, widely used; it
 * handles value-filtered paths such as `emails[type eq "work"].value` and
 * `members[value eq "…"]`). What real connectors send that it does not take as is is
 * normalised here first, in one place:
 * - op names in any case (Entra ID sends `"Replace"`, `"Add"`, `"Remove"`);
 * - a path-less op whose value holds several attributes, some as dotted or filtered
 *   paths (Entra ID: `{"op":"Add","value":{"name.givenName":"Kate"}}`), or a complex one
 *   (`{"name":{"givenName":"Kate"}}`): one op per attribute, so unknown ones can be dropped;
 * - booleans as strings (`"True"`, `"False"`) for `active`;
 * - a single value added to a multi-valued attribute (`members`, `emails`) becomes a list;
 * - attribute names in any case and with the core schema's URN prefix.
 * Attributes this service does not keep are ignored (API.md: unknown attributes are
 * ignored on write); `remove` on `active` is `400 mutability`.
 */
import { scimPatch, type ScimPatchOperation } from 'scim-patch';
import { AppError } from '../errors.js';
import { stripSchemaPrefix, type ScimResourceType } from './filter.js';
import { GROUP_ATTRIBUTES, SCHEMA, USER_ATTRIBUTES } from './schemas.js';

export const scimBadRequest = (scimType: string, detail: string, cause?: unknown) => new AppError('VALIDATION_FAILED', detail, { details: { scimType }, cause });

/** Top-level attributes a PATCH may change, per resource type, in their canonical spelling. */
const WRITABLE: Record<ScimResourceType, string[]> = {
  User: ['externalId', ...USER_ATTRIBUTES.filter((a) => a.mutability !== 'readOnly').map((a) => a.name)],
  Group: ['externalId', ...GROUP_ATTRIBUTES.filter((a) => a.mutability !== 'readOnly').map((a) => a.name)],
};
const MULTI_VALUED = new Set([...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES].filter((a) => a.multiValued).map((a) => a.name));
const SINGLE_COMPLEX = new Set(USER_ATTRIBUTES.filter((a) => a.type === 'complex' && !a.multiValued).map((a) => a.name));

interface RawOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/** Boolean strings as booleans (Entra ID). */
function toBoolean(value: unknown): unknown {
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return value;
}

/** The canonical spelling of a path's first attribute, or undefined when it is not writable. */
function canonicalPath(type: ScimResourceType, rawPath: string): string | undefined {
  const path = stripSchemaPrefix(rawPath.trim(), type);
  const match = /^([A-Za-z$][\w$-]*)(.*)$/s.exec(path);
  if (!match) return undefined;
  const name = WRITABLE[type].find((candidate) => candidate.toLowerCase() === match[1]!.toLowerCase());
  return name && `${name}${match[2]}`;
}

function parseOperations(body: unknown): RawOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw scimBadRequest('invalidSyntax', 'A PATCH body is a PatchOp object.');
  const { schemas, Operations: operations } = body as { schemas?: unknown; Operations?: unknown };
  if (Array.isArray(schemas) && !schemas.includes(SCHEMA.patchOp)) throw scimBadRequest('invalidSyntax', `schemas must list ${SCHEMA.patchOp}.`);
  if (!Array.isArray(operations) || operations.length === 0) throw scimBadRequest('invalidSyntax', 'Operations must be a non-empty list.');
  if (operations.length > 1000) throw scimBadRequest('invalidSyntax', 'At most 1000 operations per PATCH.');
  return operations.map((operation, index) => {
    if (operation === null || typeof operation !== 'object') throw scimBadRequest('invalidSyntax', `Operations[${index}] is not an object.`);
    const { op, path, value } = operation as Record<string, unknown>;
    if (typeof op !== 'string' || !['add', 'replace', 'remove'].includes(op.toLowerCase())) {
      throw scimBadRequest('invalidSyntax', `Operations[${index}].op must be add, replace or remove.`);
    }
    if (path !== undefined && typeof path !== 'string') throw scimBadRequest('invalidPath', `Operations[${index}].path must be a string.`);
    return { op: op.toLowerCase(), ...(path === undefined ? {} : { path }), ...(value === undefined ? {} : { value }) };
  });
}

/**
 * The operations as scim-patch should apply them: normalised, expanded, unknown
 * attributes dropped.
 */
export function normalizeOperations(type: ScimResourceType, body: unknown): ScimPatchOperation[] {
  const out: ScimPatchOperation[] = [];
  const push = (op: string, rawPath: string, value: unknown, hasValue: boolean) => {
    const path = canonicalPath(type, rawPath);
    if (path === undefined) return; // an attribute this service does not keep: ignored
    const bare = path.split(/[.[]/)[0]!;
    if (bare === 'active' && path === 'active') {
      if (op === 'remove') throw scimBadRequest('mutability', '"active" cannot be removed: set it to true or false.');
      value = toBoolean(value);
    }
    if (op !== 'remove' && MULTI_VALUED.has(bare) && path === bare && hasValue && !Array.isArray(value)) value = [value];
    // A member is its user id: what else a connector sends with it (Entra's `"$ref": null`,
    // Okta's `display`) is not kept, and would make a remove by value miss.
    if (bare === 'members' && path === bare && hasValue) {
      value = (Array.isArray(value) ? value : [value]).map((member) => (member !== null && typeof member === 'object' ? { value: (member as { value?: unknown }).value } : member));
    }
    if (op !== 'remove' && SINGLE_COMPLEX.has(bare) && path === bare && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // A complex attribute's sub-attributes: those given are set, the others left alone.
      for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) push(op, `${bare}.${sub}`, subValue, true);
      return;
    }
    out.push({ op, path, ...(hasValue ? { value } : {}) } as ScimPatchOperation);
  };
  for (const operation of parseOperations(body)) {
    if (operation.path !== undefined) {
      push(operation.op, operation.path, operation.value, 'value' in operation);
      continue;
    }
    if (operation.op === 'remove') throw scimBadRequest('noTarget', 'A remove operation needs a path.');
    if (operation.value === null || typeof operation.value !== 'object' || Array.isArray(operation.value)) {
      throw scimBadRequest('invalidValue', 'An operation without a path needs an object value.');
    }
    for (const [key, value] of Object.entries(operation.value as Record<string, unknown>)) {
      // An extension schema's attributes arrive under its URN: none is kept here.
      if (key.toLowerCase().startsWith('urn:') && stripSchemaPrefix(key, type) === key) continue;
      push(operation.op, key, value, true);
    }
  }
  return out;
}

/**
 * Applies a PATCH body to a resource (its writable SCIM representation) and returns the
 * patched copy.
 * @throws AppError `VALIDATION_FAILED` (400) with the SCIM `scimType` (invalidSyntax,
 *   invalidPath, noTarget, invalidValue, mutability)
 */
export function applyPatch<T extends object>(type: ScimResourceType, resource: T, body: unknown): T {
  const operations = normalizeOperations(type, body);
  const copy = structuredClone(resource) as Record<string, unknown>;
  try {
    return scimPatch(copy as never, operations, { mutateDocument: true, treatMissingAsAdd: true }) as unknown as T;
  } catch (error) {
    const scimType = typeof (error as { scimCode?: unknown }).scimCode === 'string' ? String((error as { scimCode: string }).scimCode) : 'invalidValue';
    throw scimBadRequest(scimType, error instanceof Error && error.message ? error.message : 'The PATCH could not be applied.', error);
  }
}
