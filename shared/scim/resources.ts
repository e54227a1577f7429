/**
 * SCIM resources ↔ the service's records (scim/ translates, users/ decides, storage/
 * persists). A User resource is a view of a `User` (its SCIM profile kept as written,
 * `email`, `firstName`, `lastName` and `status` derived); a Group resource is a
 * `ScimGroup`. Also attribute selection (`attributes`, `excludedAttributes`) and
 * `meta.version` (a weak ETag).
 */
import { AppError } from '../errors.js';
import { isEmailAddress, normalizeEmail, type ScimUserProfile, type User } from '../users/model.js';
import { stripSchemaPrefix, type ScimResourceType } from './filter.js';
import { scimBadRequest } from './patch.js';
import type { ScimGroup } from './ports.js';
import { SCHEMA } from './schemas.js';

export type ScimResource = Record<string, unknown> & { id: string };

/** A weak ETag of a record: its `updatedAt`, which every write moves strictly forward. */
export const weakEtag = (updatedAt: string): string => `W/"${Date.parse(updatedAt).toString(36)}"`;

/**
 * The `updatedAt` of a write: now, or just after the previous one when the clock has not
 * moved (two writes in one millisecond still get distinct versions).
 */
export function nextUpdatedAt(previous: string | undefined, now: Date): string {
  const after = previous === undefined ? 0 : Date.parse(previous) + 1;
  return new Date(Math.max(now.getTime(), after)).toISOString();
}

/** The User resource of a user. Users SCIM never wrote show their email as `userName` and only email. */
export function userResource(user: User, base: string): ScimResource {
  const scim = user.scim;
  const name = { ...(user.firstName === undefined ? {} : { givenName: user.firstName }), ...(user.lastName === undefined ? {} : { familyName: user.lastName }) };
  const emails = scim ? scim.emails : [{ value: user.email, primary: true }];
  return {
    schemas: [SCHEMA.user],
    id: user.id,
    ...(scim?.externalId === undefined ? {} : { externalId: scim.externalId }),
    userName: scim?.userName ?? user.email,
    ...(Object.keys(name).length ? { name } : {}),
    ...(scim?.displayName === undefined ? {} : { displayName: scim.displayName }),
    active: user.status === 'active',
    ...(emails && emails.length ? { emails } : {}),
    ...(scim?.groups && scim.groups.length ? { groups: scim.groups.map(({ value, display }) => ({ value, display })) } : {}),
    meta: { resourceType: 'User', created: user.createdAt, lastModified: user.updatedAt, location: `${base}/Users/${user.id}`, version: weakEtag(user.updatedAt) },
  };
}

export function groupResource(group: ScimGroup, base: string): ScimResource {
  return {
    schemas: [SCHEMA.group],
    id: group.id,
    ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
    displayName: group.displayName,
    members: group.members.map((value) => ({ value })),
    meta: { resourceType: 'Group', created: group.createdAt, lastModified: group.updatedAt, location: `${base}/Groups/${group.id}`, version: weakEtag(group.updatedAt) },
  };
}

/** What a SCIM client may write to a User: the writable part of the resource. */
export interface UserInput {
  userName: string;
  externalId?: string;
  displayName?: string;
  name?: { givenName?: string; familyName?: string };
  emails?: { value: string; type?: string; primary?: boolean }[];
  active: boolean;
}

const optionalString = (value: unknown, field: string): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw scimBadRequest('invalidValue', `${field} must be a string.`);
  if (value.length > 1024) throw scimBadRequest('invalidValue', `${field} is longer than 1024 characters.`);
  return value;
};

/** A key of `object` matching `name` case-insensitively (SCIM attribute names are). */
function field(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((candidate) => stripSchemaPrefix(candidate, 'User').toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function parseActive(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw scimBadRequest('invalidValue', 'active must be true or false.');
}

/**
 * The writable User attributes of a body (POST, PUT, or a patched resource). Unknown
 * attributes are ignored.
 * @throws AppError 400 `invalidSyntax` (not an object), `invalidValue` (wrong types, no userName)
 */
export function parseUserInput(body: unknown): UserInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw scimBadRequest('invalidSyntax', 'The body must be a SCIM User object.');
  const object = body as Record<string, unknown>;
  const userName = optionalString(field(object, 'userName'), 'userName')?.trim();
  if (!userName) throw scimBadRequest('invalidValue', 'userName is required.');
  const rawName = field(object, 'name');
  let name: UserInput['name'];
  if (rawName !== undefined && rawName !== null) {
    if (typeof rawName !== 'object' || Array.isArray(rawName)) throw scimBadRequest('invalidValue', 'name must be an object.');
    const givenName = optionalString(field(rawName as Record<string, unknown>, 'givenName'), 'name.givenName');
    const familyName = optionalString(field(rawName as Record<string, unknown>, 'familyName'), 'name.familyName');
    name = { ...(givenName === undefined || givenName === '' ? {} : { givenName }), ...(familyName === undefined || familyName === '' ? {} : { familyName }) };
  }
  const rawEmails = field(object, 'emails');
  let emails: UserInput['emails'];
  if (rawEmails !== undefined && rawEmails !== null) {
    if (!Array.isArray(rawEmails) || rawEmails.length > 20) throw scimBadRequest('invalidValue', 'emails must be a list (at most 20).');
    emails = rawEmails.map((entry, index) => {
      if (entry === null || typeof entry !== 'object') throw scimBadRequest('invalidValue', `emails[${index}] must be an object.`);
      const value = optionalString(field(entry as Record<string, unknown>, 'value'), `emails[${index}].value`);
      if (!value) throw scimBadRequest('invalidValue', `emails[${index}].value is required.`);
      const type = optionalString(field(entry as Record<string, unknown>, 'type'), `emails[${index}].type`);
      const primary = field(entry as Record<string, unknown>, 'primary');
      const isPrimary = primary === undefined || primary === null ? undefined : parseActive(primary);
      return { value, ...(type === undefined ? {} : { type }), ...(isPrimary === undefined ? {} : { primary: isPrimary }) };
    });
  }
  const externalId = optionalString(field(object, 'externalId'), 'externalId');
  const displayName = optionalString(field(object, 'displayName'), 'displayName');
  return {
    userName,
    ...(externalId === undefined ? {} : { externalId }),
    ...(displayName === undefined ? {} : { displayName }),
    ...(name && Object.keys(name).length ? { name } : {}),
    ...(emails && emails.length ? { emails } : {}),
    active: parseActive(field(object, 'active')),
  };
}

/** The writable part of a user's resource: what a PATCH starts from. */
export function userInputOf(user: User): UserInput {
  const resource = userResource(user, '');
  return parseUserInput(resource);
}

/**
 * The sign-in email a SCIM user gets: the primary (else the first) `emails` value, else
 * `userName` when it is an email address; `undefined` when neither is one.
 * @throws AppError 400 `invalidValue` when the chosen `emails` value is not an email address
 */
export function derivedEmail(input: Pick<UserInput, 'userName' | 'emails'>): string | undefined {
  const chosen = input.emails?.find((email) => email.primary) ?? input.emails?.[0];
  if (chosen) {
    if (!isEmailAddress(chosen.value)) throw scimBadRequest('invalidValue', `emails: "${chosen.value.slice(0, 100)}" is not an email address.`);
    return normalizeEmail(chosen.value);
  }
  return isEmailAddress(input.userName) ? normalizeEmail(input.userName) : undefined;
}

/** The case-insensitive form of a userName, as the uniqueness rule and the index compare it. */
export const userNameKey = (userName: string): string => userName.trim().toLowerCase();

/**
 * The user a SCIM write leaves: `base` (the stored user, or a new one) with the input's
 * attributes. Group memberships are kept: they change through the Group resource only.
 */
export function applyUserInput(base: User, input: UserInput): User {
  const email = derivedEmail(input);
  const scim: ScimUserProfile = {
    userName: input.userName,
    ...(input.externalId === undefined ? {} : { externalId: input.externalId }),
    ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
    ...(input.emails ? { emails: input.emails } : {}),
    ...(base.scim?.groups?.length ? { groups: base.scim.groups } : {}),
    ...(email === undefined ? { emailless: true } : {}),
  };
  const { firstName: _f, lastName: _l, ...rest } = base;
  return {
    ...rest,
    email: email ?? userNameKey(input.userName),
    ...(input.name?.givenName === undefined ? {} : { firstName: input.name.givenName }),
    ...(input.name?.familyName === undefined ? {} : { lastName: input.name.familyName }),
    status: input.active ? 'active' : 'blocked',
    scim,
  };
}

/** What a SCIM client may write to a Group. */
export interface GroupInput {
  displayName: string;
  externalId?: string;
  members: string[];
}

export function parseGroupInput(body: unknown): GroupInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw scimBadRequest('invalidSyntax', 'The body must be a SCIM Group object.');
  const object = body as Record<string, unknown>;
  const get = (name: string) => {
    const key = Object.keys(object).find((candidate) => stripSchemaPrefix(candidate, 'Group').toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : object[key];
  };
  const displayName = optionalString(get('displayName'), 'displayName');
  if (!displayName) throw scimBadRequest('invalidValue', 'displayName is required.');
  const externalId = optionalString(get('externalId'), 'externalId');
  const rawMembers = get('members') ?? [];
  if (!Array.isArray(rawMembers)) throw scimBadRequest('invalidValue', 'members must be a list.');
  const members = rawMembers.map((member, index) => {
    const value = member !== null && typeof member === 'object' ? (member as Record<string, unknown>).value : undefined;
    if (typeof value !== 'string' || value === '') throw scimBadRequest('invalidValue', `members[${index}].value must be a user id.`);
    return value;
  });
  return { displayName, ...(externalId === undefined ? {} : { externalId }), members: [...new Set(members)] };
}

export const groupInputOf = (group: ScimGroup): GroupInput => ({
  displayName: group.displayName,
  ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
  members: [...group.members],
});

/** The names in an `attributes` / `excludedAttributes` value (comma-separated), URN prefixes stripped. */
function attributeList(value: string | string[] | undefined, type: ScimResourceType): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : value.split(',');
  return list.map((name) => stripSchemaPrefix(name.trim(), type)).filter(Boolean);
}

const ALWAYS = new Set(['id', 'schemas']);

/** The key of `object` named `name`, case-insensitively. */
const keyOf = (object: Record<string, unknown>, name: string) => Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());

function pick(resource: Record<string, unknown>, path: string[], into: Record<string, unknown>): void {
  const key = keyOf(resource, path[0]!);
  if (key === undefined) return;
  const value = resource[key];
  if (path.length === 1) {
    into[key] = value;
    return;
  }
  if (Array.isArray(value)) {
    const existing = (into[key] as Record<string, unknown>[] | undefined) ?? value.map(() => ({}));
    value.forEach((element, index) => {
      if (element && typeof element === 'object') pick(element as Record<string, unknown>, path.slice(1), existing[index]!);
    });
    into[key] = existing;
  } else if (value && typeof value === 'object') {
    const child = (into[key] as Record<string, unknown> | undefined) ?? {};
    pick(value as Record<string, unknown>, path.slice(1), child);
    into[key] = child;
  }
}

function drop(resource: Record<string, unknown>, path: string[]): void {
  const key = keyOf(resource, path[0]!);
  if (key === undefined || ALWAYS.has(key)) return;
  if (path.length === 1) {
    delete resource[key];
    return;
  }
  const value = resource[key];
  for (const element of Array.isArray(value) ? value : [value]) {
    if (element && typeof element === 'object') drop(element as Record<string, unknown>, path.slice(1));
  }
}

export interface AttributeSelection {
  attributes?: string | string[];
  excludedAttributes?: string | string[];
}

/**
 * Attribute selection (RFC 7644 §3.4.2.5): `attributes` keeps only those (and `id`,
 * `schemas`), else `excludedAttributes` removes those.
 */
export function selectAttributes(resource: ScimResource, selection: AttributeSelection, type: ScimResourceType): ScimResource {
  const wanted = attributeList(selection.attributes, type);
  if (wanted.length > 0) {
    const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
    for (const name of wanted) pick(resource, name.split('.'), out);
    return out as ScimResource;
  }
  const excluded = attributeList(selection.excludedAttributes, type);
  if (excluded.length === 0) return resource;
  const out = structuredClone(resource);
  for (const name of excluded) drop(out, name.split('.'));
  return out;
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found.`);
