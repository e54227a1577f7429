/**
 * DynamoDB adapters for the storage ports. They take an injected document client and
 * the physical table names; they read no environment and create no tables.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../audit/model.js';
import { AUDIT_RETENTION_DAYS } from '../audit/model.js';
import { epochSeconds, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { z } from 'zod';
import {
  defaultProvisioningSettings,
  defaultSsoSettings,
  groupSchema,
  provisioningSettingsSchema,
  roleMappingSchema,
  roleSchema,
  ssoSettingsSchema,
  type OrgSettings,
} from '../settings/model.js';
import type { User } from '../users/model.js';
import { CommitConflict, type LoginCommit, type UserChange, type UserRepository } from '../users/ports.js';
import type { AuditRepository, FoldRule } from '../audit/ports.js';
import type { LoginStateRepository, PendingLogin, PendingLoginRef, SsoTest, SsoTestRepository } from '../login/ports.js';
import type { SetupLink, SetupLinkRepository } from '../setup/ports.js';
import type { IdpSessionScope, LoginLink, LoginLinkStore, RevocationSubject, SessionRevocations, SingleLogoutStore } from '../sessions/ports.js';
import { markerKeysFor, markerKeysOf } from './idp-session-keys.js';
import type { NewOrg, SettingsChange, SettingsRepository } from '../settings/ports.js';
import { type Page } from '../paging.js';
import { MAPPINGS_BY_IDP_INDEX, scimKey, tableKey, TTL_ATTRIBUTE, USERS_BY_EMAIL_INDEX, type TableNames } from './tables.js';

export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

const SK = { org: 'ORG', sso: 'SSO', provisioning: 'PROVISIONING', role: 'ROLE#', group: 'GROUP#', mapping: 'MAPPING#', domain: 'DOMAIN' };

export interface DynamoStoreOptions {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  clock: Clock;
}

const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

function decodeCursor(cursor: string | undefined, orgPk: string): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    // A cursor is only ever a key inside the caller's own org partition.
    if (key.pk !== orgPk || typeof key.sk !== 'string' || Object.keys(key).length !== 2) throw new Error('foreign cursor');
    return { pk: key.pk, sk: key.sk };
  } catch (cause) {
    throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor returned by this endpoint', { cause });
  }
}

export function auditItem(event: AuditEvent): Record<string, unknown> {
  const expires = new Date(event.at).getTime() / 1000 + AUDIT_RETENTION_DAYS * 86_400;
  return { pk: tableKey.org(event.orgId), sk: `EVT#${event.at}#${event.id}`, ...event, [TTL_ATTRIBUTE]: Math.floor(expires) };
}

function fromAuditItem(item: Record<string, unknown>): AuditEvent {
  const { pk: _pk, sk: _sk, [TTL_ATTRIBUTE]: _ttl, [FOLD.count]: count, [FOLD.lastAt]: lastAt, ...event } = item;
  // A folded event's running count and last time live beside the details it was created with.
  if (count !== undefined) event.details = { ...(event.details as Record<string, unknown>), count, lastAt };
  return event as unknown as AuditEvent;
}

/**
 * Attributes of folded events: the running count and last time are top-level attributes
 * of the event item, so one UpdateItem can create the event (`if_not_exists`) and count
 * (`ADD`, which DynamoDB allows on top-level attributes only) at once. The fold's head
 * item holds the first event as JSON, and when its window ends.
 */
const FOLD = { count: 'foldCount', lastAt: 'foldLastAt', headSk: 'FOLD', first: 'firstEvent', windowEndsAt: 'windowEndsAt' } as const;

export function userItem(user: User): Record<string, unknown> {
  // `userNameKey`: SCIM finds users by userName (their email when SCIM never named them) in one Query.
  const userNameKey = scimKey.userNameIndex(user.orgId, (user.scim?.userName ?? user.email).trim().toLowerCase());
  return { pk: tableKey.org(user.orgId), sk: tableKey.userByEmail(user.email), ...user, userNameKey };
}

export function fromUserItem(item: Record<string, unknown>): User {
  const { pk: _pk, sk: _sk, userNameKey: _userNameKey, ...user } = item;
  return user as unknown as User;
}

/**
 * The idempotency token of one logical write, made once per call (a UUID: 36 characters,
 * DynamoDB's limit). The SDK sends every retry of the call with it, so a transaction whose
 * answer was lost after it landed (a timeout) is applied once: DynamoDB answers a repeat
 * within 10 minutes without writing again.
 */
export const requestToken = (): string => randomUUID();

export function reasonCodes(error: unknown): (string | undefined)[] | undefined {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).map((reason: CancellationReason) => reason.Code);
  }
  return undefined;
}

/** Users, with the login transaction. */
export class DynamoUserRepository implements UserRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  async findByEmail(orgId: string, email: string): Promise<User | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tables.users,
        Key: { pk: tableKey.org(orgId), sk: tableKey.userByEmail(email) },
        ConsistentRead: true,
      }),
    );
    return Item ? fromUserItem(Item) : undefined;
  }

  async findById(orgId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tables.users,
        Key: { pk: tableKey.org(orgId), sk: tableKey.userById(userId) },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.emailRef === 'string' ? this.findByEmail(orgId, Item.emailRef) : undefined;
  }

  async create(user: User, events: AuditEvent[]): Promise<void> {
    const { tables } = this.options;
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tables.users, Item: userItem(user), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: tables.users,
                Item: { pk: tableKey.org(user.orgId), sk: tableKey.userById(user.id), emailRef: user.email },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
          ],
        }),
      );
    } catch (error) {
      if (reasonCodes(error)?.[0] === 'ConditionalCheckFailed') {
        throw new AppError('CONFLICT', `A user with the email ${user.email} already exists in this org.`, { cause: error });
      }
      throw error;
    }
  }

  async commitLogin(commit: LoginCommit): Promise<void> {
    const { tables, clock } = this.options;
    const { user } = commit;
    const items: TransactItem[] = [];
    if (commit.kind === 'create') {
      items.push(
        { Put: { TableName: tables.users, Item: userItem(user), ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Put: {
            TableName: tables.users,
            Item: { pk: tableKey.org(user.orgId), sk: tableKey.userById(user.id), emailRef: user.email },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      );
    } else {
      // Only the fields a login manages are written, so a concurrent admin change to
      // anything else survives; the condition refuses a user blocked or replaced meanwhile.
      const names: Record<string, string> = { '#status': 'status', '#id': 'id' };
      const values: Record<string, unknown> = { ':active': 'active', ':id': user.id };
      const sets: string[] = [];
      const removes: string[] = [];
      const fields: (keyof User)[] = ['firstName', 'lastName', 'updatedAt', 'lastLoginAt', 'idpSubject', 'jitProvisioned'];
      if (commit.replaceAssignments) fields.push('assignments');
      for (const field of fields) {
        names[`#${field}`] = field;
        if (user[field] === undefined) removes.push(`#${field}`);
        else {
          values[`:${field}`] = user[field];
          sets.push(`#${field} = :${field}`);
        }
      }
      items.push({
        Update: {
          TableName: tables.users,
          Key: { pk: tableKey.org(user.orgId), sk: tableKey.userByEmail(user.email) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND #status = :active AND #id = :id',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      });
    }
    for (const event of commit.events) items.push({ Put: { TableName: tables.audit, Item: auditItem(event) } });
    // Decided on the settings at this version: lands only while they are still in force.
    const settingsIndex = items.length;
    items.push({
      ConditionCheck: {
        TableName: tables.mappings,
        Key: { pk: tableKey.org(user.orgId), sk: SK.org },
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': commit.settingsVersion },
      },
    });
    const replayIndex = items.length;
    if (commit.replay) {
      items.push({
        Put: {
          TableName: tables.loginState,
          Item: {
            pk: tableKey.replay(commit.replay.orgId, commit.replay.id),
            [TTL_ATTRIBUTE]: epochSeconds(commit.replay.expiresAt),
          },
          // An expired marker may linger (TTL deletes late): it no longer guards anything.
          ConditionExpression: 'attribute_not_exists(pk) OR #exp < :now',
          ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': epochSeconds(clock.now()) },
        },
      });
    }
    const consumeIndex = items.length;
    if (commit.consume) {
      items.push({
        Delete: {
          TableName: tables.loginState,
          Key: { pk: tableKey.pendingLogin(commit.consume) },
          ConditionExpression: 'attribute_exists(pk) AND #exp >= :now',
          ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': epochSeconds(clock.now()) },
        },
      });
    }
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: requestToken() }));
    } catch (error) {
      const codes = reasonCodes(error);
      if (!codes) throw error;
      if (codes[settingsIndex] === 'ConditionalCheckFailed') throw new CommitConflict('settings-changed');
      if (commit.replay && codes[replayIndex] === 'ConditionalCheckFailed') throw new CommitConflict('replayed');
      if (commit.consume && codes[consumeIndex] === 'ConditionalCheckFailed') throw new CommitConflict('pending-used');
      if (codes[0] === 'ConditionalCheckFailed' || codes[1] === 'ConditionalCheckFailed') {
        throw new CommitConflict(commit.kind === 'create' ? 'user-exists' : 'user-changed');
      }
      throw error;
    }
  }

  async update(user: Pick<User, 'orgId' | 'email' | 'id'>, change: UserChange, events: AuditEvent[]): Promise<User> {
    const { tables } = this.options;
    const names: Record<string, string> = { '#id': 'id' };
    const values: Record<string, unknown> = { ':id': user.id };
    const sets = Object.entries(change.set)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        return `#${field} = :${field}`;
      });
    const removes = change.remove.map((field) => {
      names[`#${field}`] = field;
      return `#${field}`;
    });
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim();
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          ClientRequestToken: requestToken(),
          TransactItems: [
            {
              Update: {
                TableName: tables.users,
                Key: { pk: tableKey.org(user.orgId), sk: tableKey.userByEmail(user.email) },
                UpdateExpression: expression,
                ConditionExpression: 'attribute_exists(pk) AND #id = :id',
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
            ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
          ],
        }),
      );
    } catch (error) {
      if (reasonCodes(error)?.[0] === 'ConditionalCheckFailed') throw new AppError('NOT_FOUND', 'No such user.', { cause: error });
      throw error;
    }
    const updated = await this.findByEmail(user.orgId, user.email);
    if (!updated) throw new AppError('NOT_FOUND', 'No such user.');
    return updated;
  }

  async remove(user: Pick<User, 'orgId' | 'email' | 'id'> & Partial<Pick<User, 'scim'>>, events: AuditEvent[]): Promise<void> {
    const { tables } = this.options;
    const pk = tableKey.org(user.orgId);
    const scimUserName = user.scim?.userName.trim().toLowerCase();
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          ClientRequestToken: requestToken(),
          TransactItems: [
            {
              Delete: {
                TableName: tables.users,
                Key: { pk, sk: tableKey.userByEmail(user.email) },
                ConditionExpression: 'attribute_exists(pk) AND #id = :id',
                ExpressionAttributeNames: { '#id': 'id' },
                ExpressionAttributeValues: { ':id': user.id },
              },
            },
            { Delete: { TableName: tables.users, Key: { pk, sk: tableKey.userById(user.id) } } },
            // A SCIM user's userName claim goes with them (issue 14), so the name can be pushed again.
            ...(scimUserName ? [{ Delete: { TableName: tables.users, Key: { pk, sk: scimKey.userName(scimUserName) } } } satisfies TransactItem] : []),
            ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
          ],
        }),
      );
    } catch (error) {
      if (reasonCodes(error)?.[0] === 'ConditionalCheckFailed') throw new AppError('NOT_FOUND', 'No such user.', { cause: error });
      throw error;
    }
  }

  async list(orgId: string, options: { email?: string; jit?: boolean; limit: number; cursor?: string }): Promise<Page<User>> {
    const orgPk = tableKey.org(orgId);
    if (options.email) {
      const user = await this.findByEmail(orgId, options.email);
      return { items: user && (options.jit === undefined || user.jitProvisioned === options.jit) ? [user] : [] };
    }
    const items: User[] = [];
    let startKey = decodeCursor(options.cursor, orgPk);
    // Filters apply after the read, so keep reading until the page is full or the partition ends.
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tables.users,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': orgPk,
            ':prefix': 'USER#',
            ...(options.jit === undefined ? {} : { ':jit': options.jit }),
          },
          ...(options.jit === undefined ? {} : { FilterExpression: 'jitProvisioned = :jit' }),
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []).map(fromUserItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < options.limit);
    return { items, cursor: encodeCursor(startKey) };
  }

  async orgsForEmail(email: string): Promise<string[]> {
    const { Items } = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tables.users,
        IndexName: USERS_BY_EMAIL_INDEX,
        KeyConditionExpression: 'email = :email',
        ExpressionAttributeValues: { ':email': email },
        ProjectionExpression: 'orgId',
      }),
    );
    return [...new Set((Items ?? []).map((item) => String(item.orgId)))];
  }
}

/** Audit events, newest first. */
export class DynamoAuditRepository implements AuditRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  async record(event: AuditEvent): Promise<void> {
    await this.options.client.send(new PutCommand({ TableName: this.options.tables.audit, Item: auditItem(event) }));
  }

  /**
   * Two writes, no read-before-write. (1) A conditional Put of the fold's head item
   * succeeds only when no window is open: this event opens one, and the head remembers
   * it. When a window is open the Put fails and DynamoDB returns the head as it stood
   * (`ReturnValuesOnConditionCheckFailure`), naming the event that opened it. (2) One
   * UpdateItem on that event's own key creates it if missing (`if_not_exists` on every
   * attribute, from the head's copy, so whichever caller gets there first writes the same
   * item) and `ADD`s 1 to its count. Single-item conditional writes and `ADD` are atomic,
   * so concurrent callers agree on one head and every one of them is counted.
   */
  async recordFolded(event: AuditEvent, fold: FoldRule): Promise<void> {
    const { client, tables } = this.options;
    const windowEndsAt = Date.parse(event.at) + fold.windowSeconds * 1000;
    let first: AuditEvent = { ...event, details: { ...event.details, firstAt: event.at } };
    try {
      await client.send(
        new PutCommand({
          TableName: tables.audit,
          Item: {
            pk: tableKey.auditFold(event.orgId, fold.key),
            sk: FOLD.headSk,
            [FOLD.first]: JSON.stringify(first),
            [FOLD.windowEndsAt]: windowEndsAt,
            [TTL_ATTRIBUTE]: Math.ceil(windowEndsAt / 1000),
          },
          // The window is re-checked here, not left to the TTL: DynamoDB deletes expired items late.
          ConditionExpression: 'attribute_not_exists(pk) OR #windowEndsAt <= :at',
          ExpressionAttributeNames: { '#windowEndsAt': FOLD.windowEndsAt },
          ExpressionAttributeValues: { ':at': Date.parse(event.at) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      const open = error instanceof ConditionalCheckFailedException ? error.Item?.[FOLD.first]?.S : undefined;
      if (open === undefined) throw error;
      first = JSON.parse(open) as AuditEvent;
    }
    await this.#countInto(first, event.at);
  }

  async #countInto(first: AuditEvent, at: string): Promise<void> {
    const { pk, sk, ...attributes } = auditItem(first);
    const names: Record<string, string> = { '#count': FOLD.count, '#lastAt': FOLD.lastAt };
    const values: Record<string, unknown> = { ':one': 1, ':at': at };
    const created = Object.entries(attributes).map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} = if_not_exists(#a${i}, :a${i})`;
    });
    const update = { TableName: this.options.tables.audit, Key: { pk, sk } };
    try {
      await this.options.client.send(
        new UpdateCommand({
          ...update,
          UpdateExpression: `SET ${created.join(', ')}, #lastAt = :at ADD #count :one`,
          // lastAt only moves forward: a slower caller with an earlier time counts without setting it.
          ConditionExpression: 'attribute_not_exists(#lastAt) OR #lastAt <= :at',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.options.client.send(
        new UpdateCommand({
          ...update,
          UpdateExpression: 'ADD #count :one',
          ExpressionAttributeNames: { '#count': FOLD.count },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    }
  }

  async list(orgId: string, options: { type?: string; limit: number; cursor?: string }): Promise<Page<AuditEvent>> {
    const orgPk = tableKey.org(orgId);
    const items: AuditEvent[] = [];
    let startKey = decodeCursor(options.cursor, orgPk);
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tables.audit,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeNames: options.type ? { '#type': 'type' } : undefined,
          ExpressionAttributeValues: { ':pk': orgPk, ...(options.type ? { ':type': options.type.replace(/\*$/, '') } : {}) },
          // `role.*` filters by prefix, anything else by equality.
          ...(options.type ? { FilterExpression: options.type.endsWith('.*') ? 'begins_with(#type, :type)' : '#type = :type' } : {}),
          ScanIndexForward: false,
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []).map(fromAuditItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < options.limit);
    return { items, cursor: encodeCursor(startKey) };
  }
}

/** Org settings: one partition per org, read with one Query. */
export class DynamoSettingsRepository implements SettingsRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  async load(orgId: string): Promise<OrgSettings | undefined> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tables.mappings,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': tableKey.org(orgId) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const orgItem = items.find((item) => item.sk === SK.org);
    if (!orgItem) return undefined;
    // Stored documents are parsed with the same schemas that validated them: typed, in
    // schema key order (DynamoDB keeps no attribute order), and a corrupt item fails loudly.
    const docs = <T>(prefix: string, schema: z.ZodType<T>) =>
      items.filter((item) => String(item.sk).startsWith(prefix)).map((item) => schema.parse(item.doc));
    const sso = items.find((item) => item.sk === SK.sso)?.doc;
    const provisioning = items.find((item) => item.sk === SK.provisioning)?.doc;
    return {
      org: { id: orgId, name: String(orgItem.name), createdAt: String(orgItem.createdAt) },
      sso: sso === undefined ? defaultSsoSettings() : ssoSettingsSchema.parse(sso),
      provisioning: provisioning === undefined ? defaultProvisioningSettings() : provisioningSettingsSchema.parse(provisioning),
      roles: docs(SK.role, roleSchema),
      groups: docs(SK.group, groupSchema),
      roleMappings: docs(SK.mapping, roleMappingSchema),
      version: String(orgItem.version),
    };
  }

  async createOrg(input: NewOrg, events: AuditEvent[]): Promise<void> {
    const { tables } = this.options;
    const pk = tableKey.org(input.org.id);
    const put = (sk: string, doc: unknown): TransactItem => ({ Put: { TableName: tables.mappings, Item: { pk, sk, doc } } });
    const items: TransactItem[] = [
      {
        Put: {
          TableName: tables.mappings,
          Item: { pk, sk: SK.org, name: input.org.name, createdAt: input.org.createdAt, version: '1' },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      put(SK.sso, input.sso),
      put(SK.provisioning, input.provisioning),
      ...input.roles.map((role) => put(SK.role + role.id, role)),
      ...input.groups.map((group) => put(SK.group + group.id, group)),
      ...input.roleMappings.map((mapping) => put(SK.mapping + mapping.id, mapping)),
      { Put: { TableName: tables.users, Item: userItem(input.firstUser), ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Put: {
          TableName: tables.users,
          Item: { pk, sk: tableKey.userById(input.firstUser.id), emailRef: input.firstUser.email },
        },
      },
      ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
    ];
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: requestToken() }));
    } catch (error) {
      if (reasonCodes(error)?.[0] === 'ConditionalCheckFailed') {
        throw new AppError('CONFLICT', `org ${input.org.id} already exists`, { cause: error });
      }
      throw error;
    }
  }

  async apply(orgId: string, change: SettingsChange, events: AuditEvent[], options: { ifVersion: string }): Promise<string> {
    const { tables } = this.options;
    const pk = tableKey.org(orgId);
    // The caller read version `ifVersion`; the transaction's condition makes the write
    // land only on that version, so nothing is read again here.
    const version = String(Number(options.ifVersion) + 1);
    const put = (sk: string, doc: unknown, extra: Record<string, unknown> = {}): TransactItem => ({
      Put: { TableName: tables.mappings, Item: { pk, sk, doc, ...extra } },
    });
    const del = (sk: string): TransactItem => ({ Delete: { TableName: tables.mappings, Key: { pk, sk } } });
    const items: TransactItem[] = [
      {
        Update: {
          TableName: tables.mappings,
          Key: { pk, sk: SK.org },
          UpdateExpression: 'SET version = :next',
          ConditionExpression: 'version = :current',
          ExpressionAttributeValues: { ':next': version, ':current': options.ifVersion },
        },
      },
    ];
    if (change.sso) {
      const idpKey = change.sso.protocol === 'oidc' ? change.sso.oidc?.issuer : change.sso.saml?.idpEntityId;
      items.push(put(SK.sso, change.sso, idpKey ? { idpKey } : {}));
    }
    if (change.provisioning) items.push(put(SK.provisioning, change.provisioning));
    items.push(...(change.putRoleMappings ?? []).map((mapping) => put(SK.mapping + mapping.id, mapping)));
    items.push(...(change.deleteRoleMappingIds ?? []).map((id) => del(SK.mapping + id)));
    items.push(...(change.putRoles ?? []).map((role) => put(SK.role + role.id, role)));
    items.push(...(change.deleteRoleIds ?? []).map((id) => del(SK.role + id)));
    items.push(...(change.putGroups ?? []).map((group) => put(SK.group + group.id, group)));
    items.push(...(change.deleteGroupIds ?? []).map((id) => del(SK.group + id)));
    const claimStart = items.length;
    for (const { domain, verifiedAt } of change.claimDomains ?? []) {
      items.push({
        Put: {
          TableName: tables.mappings,
          Item: { pk: tableKey.domain(domain), sk: SK.domain, orgId, verifiedAt },
          // A claim made before domains were verified (no verifiedAt) gives way to a proof.
          ConditionExpression: 'attribute_not_exists(pk) OR orgId = :org OR attribute_not_exists(verifiedAt)',
          ExpressionAttributeValues: { ':org': orgId },
        },
      });
    }
    const claimEnd = items.length;
    for (const domain of change.releaseDomains ?? []) {
      items.push({
        Delete: {
          TableName: tables.mappings,
          Key: { pk: tableKey.domain(domain), sk: SK.domain },
          ConditionExpression: 'attribute_not_exists(pk) OR orgId = :org',
          ExpressionAttributeValues: { ':org': orgId },
        },
      });
    }
    items.push(...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })));
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: requestToken() }));
    } catch (error) {
      const codes = reasonCodes(error);
      if (!codes) throw error;
      if (codes[0] === 'ConditionalCheckFailed') {
        if (!(await this.orgExists(orgId))) throw new AppError('ORG_NOT_FOUND', `org ${orgId} does not exist`, { cause: error });
        throw new AppError('PRECONDITION_FAILED', 'the settings changed since they were read: read them again and retry', {
          cause: error,
        });
      }
      const taken = (change.claimDomains ?? []).filter((_, index) => codes[claimStart + index] === 'ConditionalCheckFailed').map(({ domain }) => domain);
      if (taken.length > 0 && claimEnd > claimStart) {
        throw new AppError('CONFLICT', `${taken.join(', ')}: already verified by another organization, which it keeps routing to`, { cause: error });
      }
      throw error;
    }
    return version;
  }

  private async orgExists(orgId: string): Promise<boolean> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.mappings, Key: { pk: tableKey.org(orgId), sk: SK.org }, ProjectionExpression: 'pk' }),
    );
    return Item !== undefined;
  }

  async orgsForIdp(idpKey: string): Promise<string[]> {
    const { Items } = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tables.mappings,
        IndexName: MAPPINGS_BY_IDP_INDEX,
        KeyConditionExpression: 'idpKey = :key',
        ExpressionAttributeValues: { ':key': idpKey },
        ProjectionExpression: 'pk',
      }),
    );
    return [...new Set((Items ?? []).map((item) => String(item.pk).replace(/^ORG#/, '')))];
  }

  async *orgIds(): AsyncIterable<string> {
    // Once a day: a Scan of the org items only (filtered), a page at a time.
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new ScanCommand({
          TableName: this.options.tables.mappings,
          FilterExpression: 'sk = :org',
          ExpressionAttributeValues: { ':org': SK.org },
          ProjectionExpression: 'pk',
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) yield String(item.pk).replace(/^ORG#/, '');
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  async orgForDomain(domain: string): Promise<string | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.mappings, Key: { pk: tableKey.domain(domain), sk: SK.domain } }),
    );
    // Claims from before domains were verified carry no verifiedAt: they route nothing.
    return typeof Item?.orgId === 'string' && typeof Item.verifiedAt === 'string' ? Item.orgId : undefined;
  }
}

function toPendingItem(pending: PendingLogin): Record<string, unknown> {
  const { expiresAt, ...rest } = pending;
  return { pk: tableKey.pendingLogin(pending), ...rest, [TTL_ATTRIBUTE]: epochSeconds(expiresAt) };
}

function fromPendingItem(item: Record<string, unknown> | undefined, now: Date): PendingLogin | undefined {
  if (!item) return undefined;
  const { pk: _pk, [TTL_ATTRIBUTE]: expires, ...rest } = item;
  // DynamoDB deletes expired items late: an expired one is as good as gone.
  if (typeof expires !== 'number' || expires < epochSeconds(now)) return undefined;
  return { ...(rest as Omit<PendingLogin, 'expiresAt'>), expiresAt: new Date(expires * 1000) };
}

/** Pending logins: single-use records with a TTL. */
export class DynamoLoginStateRepository implements LoginStateRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  async save(pending: PendingLogin): Promise<void> {
    await this.options.client.send(
      new PutCommand({ TableName: this.options.tables.loginState, Item: toPendingItem(pending), ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async peek(ref: PendingLoginRef): Promise<PendingLogin | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.loginState, Key: { pk: tableKey.pendingLogin(ref) }, ConsistentRead: true }),
    );
    return fromPendingItem(Item, this.options.clock.now());
  }

  async take(ref: PendingLoginRef): Promise<PendingLogin | undefined> {
    const { Attributes } = await this.options.client.send(
      new DeleteCommand({ TableName: this.options.tables.loginState, Key: { pk: tableKey.pendingLogin(ref) }, ReturnValues: 'ALL_OLD' }),
    );
    return fromPendingItem(Attributes, this.options.clock.now());
  }
}

/**
 * Signed-out session tokens in the login-state table, each until its `exp`, and the IdP
 * sessions single logout ended (markers with the second they ended at).
 */
export class DynamoSessionRevocations implements SessionRevocations {
  constructor(private readonly options: DynamoStoreOptions) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.options.client.send(
      new PutCommand({ TableName: this.options.tables.loginState, Item: { pk: tableKey.revokedSession(jti), [TTL_ATTRIBUTE]: epochSeconds(expiresAt) } }),
    );
  }

  async revokeIdpSessions(scope: IdpSessionScope, at: Date, keepUntil: Date): Promise<void> {
    // A handful of markers (one per SessionIndex of one LogoutRequest): independent puts, in parallel.
    await Promise.all(
      markerKeysOf(scope).map((pk) =>
        this.options.client.send(
          new PutCommand({ TableName: this.options.tables.loginState, Item: { pk, revokedAt: epochSeconds(at), [TTL_ATTRIBUTE]: epochSeconds(keepUntil) } }),
        ),
      ),
    );
  }

  async isRevoked(token: RevocationSubject): Promise<boolean> {
    const table = this.options.tables.loginState;
    const now = epochSeconds(this.options.clock.now());
    const markers = markerKeysFor(token);
    // An expired record outlived every token it could refuse.
    const live = (item: Record<string, unknown> | undefined) => typeof item?.[TTL_ATTRIBUTE] === 'number' && item[TTL_ATTRIBUTE] >= now;
    if (markers.length === 0) {
      const { Item } = await this.options.client.send(new GetCommand({ TableName: table, Key: { pk: tableKey.revokedSession(token.jti) }, ConsistentRead: true }));
      return live(Item);
    }
    // The token's own revocation and its IdP session's markers: one round trip, as before.
    const keys = [tableKey.revokedSession(token.jti), ...markers].map((pk) => ({ pk }));
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, any>[] | undefined = keys;
    for (let round = 0; pending && pending.length > 0 && round < 5; round += 1) {
      const answer: { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: Record<string, { Keys?: Record<string, any>[] }> } =
        await this.options.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(answer.Responses?.[table] ?? []));
      pending = answer.UnprocessedKeys?.[table]?.Keys;
    }
    if (pending && pending.length > 0) throw new Error('session revocation check: keys left unprocessed');
    return items.some((item) => {
      if (!live(item)) return false;
      if (item.pk === tableKey.revokedSession(token.jti)) return true;
      return typeof item.revokedAt === 'number' && token.iat <= item.revokedAt;
    });
  }
}

/** Single logout's pending LogoutRequests and seen LogoutRequest IDs, in the login-state table. */
export class DynamoSingleLogoutStore implements SingleLogoutStore {
  constructor(private readonly options: DynamoStoreOptions) {}

  async savePending(orgId: string, requestId: string, expiresAt: Date): Promise<void> {
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tables.loginState,
        Item: { pk: tableKey.pendingLogout(orgId, requestId), [TTL_ATTRIBUTE]: epochSeconds(expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async takePending(orgId: string, requestId: string): Promise<boolean> {
    const { Attributes } = await this.options.client.send(
      new DeleteCommand({ TableName: this.options.tables.loginState, Key: { pk: tableKey.pendingLogout(orgId, requestId) }, ReturnValues: 'ALL_OLD' }),
    );
    return typeof Attributes?.[TTL_ATTRIBUTE] === 'number' && Attributes[TTL_ATTRIBUTE] >= epochSeconds(this.options.clock.now());
  }

  async markSeen(orgId: string, messageId: string, expiresAt: Date): Promise<boolean> {
    const now = epochSeconds(this.options.clock.now());
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tables.loginState,
          Item: { pk: tableKey.seenLogout(orgId, messageId), [TTL_ATTRIBUTE]: epochSeconds(expiresAt) },
          // A record past its TTL that DynamoDB has not deleted yet no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async forgetSeen(orgId: string, messageId: string): Promise<void> {
    await this.options.client.send(new DeleteCommand({ TableName: this.options.tables.loginState, Key: { pk: tableKey.seenLogout(orgId, messageId) } }));
  }
}

/** One-time console sign-in links in the login-state table, by the SHA-256 of their token. */
export class DynamoLoginLinks implements LoginLinkStore {
  constructor(private readonly options: DynamoStoreOptions) {}

  async save(link: LoginLink): Promise<void> {
    const { tokenHash, expiresAt, ...rest } = link;
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tables.loginState,
        Item: { pk: tableKey.loginLink(tokenHash), ...rest, [TTL_ATTRIBUTE]: epochSeconds(expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async take(tokenHash: string): Promise<LoginLink | undefined> {
    try {
      // The condition makes the first taker the only one, and leaves an expired link unused.
      const { Attributes } = await this.options.client.send(
        new DeleteCommand({
          TableName: this.options.tables.loginState,
          Key: { pk: tableKey.loginLink(tokenHash) },
          ConditionExpression: 'attribute_exists(pk) AND #exp >= :now',
          ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': epochSeconds(this.options.clock.now()) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!Attributes) return undefined;
      const { orgId, userId, email, [TTL_ATTRIBUTE]: expires } = Attributes;
      return { tokenHash, orgId: String(orgId), userId: String(userId), email: String(email), expiresAt: new Date(Number(expires) * 1000) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

function toTestItem(test: SsoTest): Record<string, unknown> {
  const { expiresAt, ...rest } = test;
  return { pk: tableKey.ssoTest(test.orgId, test.id), ...rest, [TTL_ATTRIBUTE]: epochSeconds(expiresAt) };
}

/** Test sign-ins in the login-state table, beside the pending logins they answer. */
export class DynamoSsoTestRepository implements SsoTestRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  async start(test: SsoTest, pending: PendingLogin): Promise<void> {
    const { loginState } = this.options.tables;
    await this.options.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: loginState, Item: toTestItem(test), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: loginState, Item: toPendingItem(pending), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
  }

  async get(orgId: string, id: string): Promise<SsoTest | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.loginState, Key: { pk: tableKey.ssoTest(orgId, id) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, [TTL_ATTRIBUTE]: expires, ...rest } = Item;
    // DynamoDB deletes expired items late: an expired one is as good as gone.
    if (typeof expires !== 'number' || expires < epochSeconds(this.options.clock.now())) return undefined;
    return { ...(rest as Omit<SsoTest, 'expiresAt'>), expiresAt: new Date(expires * 1000) };
  }

  async complete(test: SsoTest, options: { consume?: PendingLoginRef; replay?: { orgId: string; id: string; expiresAt: Date }; events: AuditEvent[] }): Promise<void> {
    const { tables, clock } = this.options;
    const now = epochSeconds(clock.now());
    const items: TransactItem[] = [{ Put: { TableName: tables.loginState, Item: toTestItem(test) } }];
    const consumeIndex = items.length;
    if (options.consume) {
      items.push({
        Delete: {
          TableName: tables.loginState,
          Key: { pk: tableKey.pendingLogin(options.consume) },
          ConditionExpression: 'attribute_exists(pk) AND #exp >= :now',
          ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': now },
        },
      });
    }
    const replayIndex = items.length;
    if (options.replay) {
      items.push({
        Put: {
          TableName: tables.loginState,
          Item: { pk: tableKey.replay(options.replay.orgId, options.replay.id), [TTL_ATTRIBUTE]: epochSeconds(options.replay.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk) OR #exp < :now',
          ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': now },
        },
      });
    }
    for (const event of options.events) items.push({ Put: { TableName: tables.audit, Item: auditItem(event) } });
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const codes = reasonCodes(error);
      if (options.consume && codes?.[consumeIndex] === 'ConditionalCheckFailed') throw new CommitConflict('pending-used');
      if (options.replay && codes?.[replayIndex] === 'ConditionalCheckFailed') throw new CommitConflict('replayed');
      throw error;
    }
  }
}

const SETUP_LINK_FIELDS = ['id', 'orgId', 'note', 'createdBy', 'createdAt', 'expiresAt', 'tokenHash', 'usedAt', 'revokedAt'] as const;

function fromSetupLinkItem(item: Record<string, unknown> | undefined): SetupLink | undefined {
  if (!item) return undefined;
  return Object.fromEntries(SETUP_LINK_FIELDS.filter((field) => item[field] !== undefined).map((field) => [field, item[field]])) as unknown as SetupLink;
}

/**
 * Setup links in the mappings table, in a partition of their own per org (a settings
 * Query never reads them), with one item per token hash to find a link by its token.
 */
export class DynamoSetupLinkRepository implements SetupLinkRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  private key(orgId: string, id: string) {
    return { pk: tableKey.setupLinks(orgId), sk: tableKey.setupLink(id) };
  }

  async create(link: SetupLink, events: AuditEvent[]): Promise<void> {
    const { tables } = this.options;
    await this.options.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tables.mappings, Item: { ...this.key(link.orgId, link.id), ...link }, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Put: {
              TableName: tables.mappings,
              Item: { pk: tableKey.setupToken(link.tokenHash), sk: 'TOKEN', orgId: link.orgId, linkId: link.id },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
        ],
      }),
    );
  }

  async get(orgId: string, id: string): Promise<SetupLink | undefined> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.options.tables.mappings, Key: this.key(orgId, id), ConsistentRead: true }));
    return fromSetupLinkItem(Item);
  }

  async findByTokenHash(tokenHash: string): Promise<SetupLink | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.mappings, Key: { pk: tableKey.setupToken(tokenHash), sk: 'TOKEN' }, ConsistentRead: true }),
    );
    if (typeof Item?.orgId !== 'string' || typeof Item.linkId !== 'string') return undefined;
    const link = await this.get(Item.orgId, Item.linkId);
    // The pointer is only a lookup: the link itself must carry the same hash.
    return link?.tokenHash === tokenHash ? link : undefined;
  }

  async list(orgId: string, limit: number): Promise<SetupLink[]> {
    const links: SetupLink[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tables.mappings,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': tableKey.setupLinks(orgId) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      links.push(...(page.Items ?? []).map((item) => fromSetupLinkItem(item)!));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return links.sort((a, b) => (`${b.createdAt}#${b.id}` > `${a.createdAt}#${a.id}` ? 1 : -1)).slice(0, limit);
  }

  async revoke(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean> {
    return this.stamp(orgId, id, 'revokedAt', at, events, true);
  }

  async markUsed(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean> {
    return this.stamp(orgId, id, 'usedAt', at, events, false);
  }

  /** Sets `field` once, with `events`; false when it was already set. */
  private async stamp(orgId: string, id: string, field: 'usedAt' | 'revokedAt', at: string, events: AuditEvent[], mustExist: boolean): Promise<boolean> {
    const { tables } = this.options;
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tables.mappings,
                Key: this.key(orgId, id),
                UpdateExpression: 'SET #field = :at',
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#field)',
                ExpressionAttributeNames: { '#field': field },
                ExpressionAttributeValues: { ':at': at },
              },
            },
            ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (reasonCodes(error)?.[0] !== 'ConditionalCheckFailed') throw error;
      if (mustExist && !(await this.get(orgId, id))) throw new AppError('NOT_FOUND', 'No such setup link.', { cause: error });
      return false;
    }
  }
}
