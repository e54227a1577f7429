/**
 * DynamoDB adapters of the SCIM ports (shared/scim/ports.ts): SCIM groups and the
 * one-transaction SCIM commit in the users table, SCIM tokens in the mappings table.
 * Keys are in tables.ts (`scimKey`). Like the other adapters they take an injected
 * document client and read no environment.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../audit/model.js';
import { ScimConflict, type ScimChange, type ScimCommit, type ScimDirectory, type ScimGroup, type ScimToken, type ScimTokenRepository } from '../scim/ports.js';
import { normalizeEmail, type User } from '../users/model.js';
import { auditItem, fromUserItem, reasonCodes, requestToken, userItem, type DynamoStoreOptions, type TransactItem } from './dynamo.js';
import { scimKey, tableKey, USERS_BY_USER_NAME_INDEX } from './tables.js';

type Reason = ScimConflict['reason'];

const userNameKeyOf = (user: User): string | undefined => (user.scim ? user.scim.userName.trim().toLowerCase() : undefined);

function fromGroupItem(item: Record<string, unknown>): ScimGroup {
  const { pk: _pk, sk: _sk, ...group } = item;
  return { ...(group as unknown as ScimGroup), members: (group.members as string[] | undefined) ?? [] };
}

/** Reads every page of a Query. */
async function queryAll(client: DynamoDBDocumentClient, input: ConstructorParameters<typeof QueryCommand>[0]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export class DynamoScimDirectory implements ScimDirectory {
  constructor(private readonly options: DynamoStoreOptions) {}

  async findUsersByUserName(orgId: string, userName: string): Promise<User[]> {
    const { Items } = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tables.users,
        IndexName: USERS_BY_USER_NAME_INDEX,
        KeyConditionExpression: 'userNameKey = :key',
        ExpressionAttributeValues: { ':key': scimKey.userNameIndex(orgId, userName.trim().toLowerCase()) },
      }),
    );
    if (Items && Items.length > 0) return Items.map(fromUserItem);
    // A user last written before the byUserName index existed has no `userNameKey` until
    // its next write; its SCIM userName is its email, so an email-shaped userName still
    // finds it (one GetItem, only on a miss) and an org can switch to SCIM without a backfill.
    if (!userName.includes('@')) return [];
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.users, Key: { pk: tableKey.org(orgId), sk: tableKey.userByEmail(normalizeEmail(userName)) }, ConsistentRead: true }),
    );
    return Item && Item.userNameKey === undefined ? [fromUserItem(Item)] : [];
  }

  async allUsers(orgId: string): Promise<User[]> {
    const items = await queryAll(this.options.client, {
      TableName: this.options.tables.users,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tableKey.org(orgId), ':prefix': 'USER#' },
      ConsistentRead: true,
    });
    return items.map(fromUserItem);
  }

  async getGroup(orgId: string, groupId: string): Promise<ScimGroup | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.users, Key: { pk: tableKey.org(orgId), sk: scimKey.group(groupId) }, ConsistentRead: true }),
    );
    return Item ? fromGroupItem(Item) : undefined;
  }

  async allGroups(orgId: string): Promise<ScimGroup[]> {
    const items = await queryAll(this.options.client, {
      TableName: this.options.tables.users,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tableKey.org(orgId), ':prefix': scimKey.groupPrefix },
      ConsistentRead: true,
    });
    return items.map(fromGroupItem);
  }

  async commit(commit: ScimCommit): Promise<void> {
    const { tables } = this.options;
    const pk = tableKey.org(commit.orgId);
    const items: TransactItem[] = [];
    const reasons: (Reason | undefined)[] = [];
    const add = (item: TransactItem, reason?: Reason) => {
      items.push(item);
      reasons.push(reason);
    };
    /** The stored record must still be the one read: same id, same `updatedAt`. */
    const unchanged = (record: { id: string; updatedAt: string }) => ({
      ConditionExpression: 'attribute_exists(pk) AND #id = :id AND #updatedAt = :updatedAt',
      ExpressionAttributeNames: { '#id': 'id', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: { ':id': record.id, ':updatedAt': record.updatedAt },
    });
    const userNameClaim = (user: User) => ({ Put: { TableName: tables.users, Item: { pk, sk: scimKey.userName(userNameKeyOf(user)!), userId: user.id }, ConditionExpression: 'attribute_not_exists(pk) OR userId = :id', ExpressionAttributeValues: { ':id': user.id } } });
    for (const change of commit.changes) this.translate(change, pk, add, unchanged, userNameClaim);
    for (const event of commit.events) add({ Put: { TableName: tables.audit, Item: auditItem(event) } });
    add(
      {
        ConditionCheck: {
          TableName: tables.mappings,
          Key: { pk, sk: 'ORG' },
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': commit.settingsVersion },
        },
      },
      'settings-changed',
    );
    try {
      await this.options.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: requestToken() }));
    } catch (error) {
      const codes = reasonCodes(error);
      if (!codes) throw error;
      const failed = codes.findIndex((code) => code === 'ConditionalCheckFailed');
      if (failed >= 0 && reasons[failed]) throw new ScimConflict(reasons[failed]!);
      // Two transactions on one item at once: as good as a stale read.
      if (codes.includes('TransactionConflict')) throw new ScimConflict('stale');
      throw error;
    }
  }

  private translate(
    change: ScimChange,
    pk: string,
    add: (item: TransactItem, reason?: Reason) => void,
    unchanged: (record: { id: string; updatedAt: string }) => Record<string, unknown>,
    userNameClaim: (user: User) => TransactItem,
  ): void {
    const { users } = this.options.tables;
    switch (change.kind) {
      case 'putUser': {
        const { before, after } = change;
        const idPointer = { pk, sk: tableKey.userById(after.id), emailRef: after.email };
        if (!before) {
          add({ Put: { TableName: users, Item: userItem(after), ConditionExpression: 'attribute_not_exists(pk)' } }, 'user-exists');
          add({ Put: { TableName: users, Item: idPointer, ConditionExpression: 'attribute_not_exists(pk)' } }, 'user-exists');
          if (after.scim) add(userNameClaim(after), 'user-name-taken');
          return;
        }
        if (before.email === after.email) {
          add({ Put: { TableName: users, Item: userItem(after), ...unchanged(before) } }, 'stale');
        } else {
          // The user record is keyed by email: it moves, and the id points to its new key.
          add({ Delete: { TableName: users, Key: { pk, sk: tableKey.userByEmail(before.email) }, ...unchanged(before) } }, 'stale');
          add({ Put: { TableName: users, Item: userItem(after), ConditionExpression: 'attribute_not_exists(pk)' } }, 'user-exists');
          add({ Put: { TableName: users, Item: idPointer } });
        }
        const [oldName, newName] = [userNameKeyOf(before), userNameKeyOf(after)];
        if (newName !== undefined && oldName !== newName) {
          if (oldName !== undefined) add({ Delete: { TableName: users, Key: { pk, sk: scimKey.userName(oldName) } } });
          add(userNameClaim(after), 'user-name-taken');
        }
        return;
      }
      case 'deleteUser': {
        const { before } = change;
        add({ Delete: { TableName: users, Key: { pk, sk: tableKey.userByEmail(before.email) }, ...unchanged(before) } }, 'stale');
        add({ Delete: { TableName: users, Key: { pk, sk: tableKey.userById(before.id) } } });
        const name = userNameKeyOf(before);
        if (name !== undefined) add({ Delete: { TableName: users, Key: { pk, sk: scimKey.userName(name) } } });
        return;
      }
      case 'putGroup': {
        const { before, after } = change;
        const item = { pk, sk: scimKey.group(after.id), ...after };
        const nameClaim = { Put: { TableName: users, Item: { pk, sk: scimKey.groupName(after.displayName), groupId: after.id }, ConditionExpression: 'attribute_not_exists(pk)' } };
        if (!before) {
          add({ Put: { TableName: users, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } });
          add(nameClaim, 'group-name-taken');
          return;
        }
        add({ Put: { TableName: users, Item: item, ...unchanged(before) } }, 'stale');
        if (before.displayName !== after.displayName) {
          add({ Delete: { TableName: users, Key: { pk, sk: scimKey.groupName(before.displayName) } } });
          add(nameClaim, 'group-name-taken');
        }
        return;
      }
      case 'deleteGroup': {
        const { before } = change;
        add({ Delete: { TableName: users, Key: { pk, sk: scimKey.group(before.id) }, ...unchanged(before) } }, 'stale');
        add({ Delete: { TableName: users, Key: { pk, sk: scimKey.groupName(before.displayName) } } });
        return;
      }
    }
  }
}

function fromTokenItem(item: Record<string, unknown>): ScimToken {
  const { id, orgId, tokenHash, createdAt, lastUsedAt } = item as Record<string, string | undefined>;
  return { id: id!, orgId: orgId!, tokenHash: tokenHash!, createdAt: createdAt!, ...(lastUsedAt ? { lastUsedAt } : {}) };
}

/**
 * SCIM tokens in the mappings table: the token by its hash (what authentication reads),
 * and a copy in the org's token list. Revoking deletes both at once.
 */
export class DynamoScimTokenRepository implements ScimTokenRepository {
  constructor(private readonly options: DynamoStoreOptions) {}

  private keys(token: Pick<ScimToken, 'orgId' | 'id' | 'tokenHash'>) {
    return [
      { pk: scimKey.token(token.tokenHash), sk: 'TOKEN' },
      { pk: scimKey.orgTokens(token.orgId), sk: scimKey.orgToken(token.id) },
    ];
  }

  async create(token: ScimToken, events: AuditEvent[]): Promise<void> {
    const { tables } = this.options;
    await this.options.client.send(
      new TransactWriteCommand({
        ClientRequestToken: requestToken(),
        TransactItems: [
          ...this.keys(token).map((key): TransactItem => ({ Put: { TableName: tables.mappings, Item: { ...key, ...token }, ConditionExpression: 'attribute_not_exists(pk)' } })),
          ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
        ],
      }),
    );
  }

  async findByHash(tokenHash: string): Promise<ScimToken | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tables.mappings, Key: { pk: scimKey.token(tokenHash), sk: 'TOKEN' }, ConsistentRead: true }),
    );
    return Item ? fromTokenItem(Item) : undefined;
  }

  async list(orgId: string): Promise<ScimToken[]> {
    const items = await queryAll(this.options.client, {
      TableName: this.options.tables.mappings,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': scimKey.orgTokens(orgId) },
      ConsistentRead: true,
    });
    return items.map(fromTokenItem);
  }

  async revoke(orgId: string, tokenId: string, events: AuditEvent[]): Promise<boolean> {
    const { tables } = this.options;
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: tables.mappings, Key: { pk: scimKey.orgTokens(orgId), sk: scimKey.orgToken(tokenId) }, ConsistentRead: true }),
    );
    if (!Item) return false;
    const [byHash, inList] = this.keys(fromTokenItem(Item));
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          ClientRequestToken: requestToken(),
          TransactItems: [
            { Delete: { TableName: tables.mappings, Key: inList, ConditionExpression: 'attribute_exists(pk)' } },
            { Delete: { TableName: tables.mappings, Key: byHash } },
            ...events.map((event): TransactItem => ({ Put: { TableName: tables.audit, Item: auditItem(event) } })),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (reasonCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async touch(token: Pick<ScimToken, 'orgId' | 'id' | 'tokenHash'>, at: string, notBefore: string): Promise<void> {
    const { tables, client } = this.options;
    for (const key of this.keys(token)) {
      await client
        .send(
          new UpdateCommand({
            TableName: tables.mappings,
            Key: key,
            UpdateExpression: 'SET lastUsedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :notBefore)',
            ExpressionAttributeValues: { ':at': at, ':notBefore': notBefore },
          }),
        )
        .catch(() => undefined);
    }
  }
}
