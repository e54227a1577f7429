/**
 * The user record: what an IdP provisions and an admin manages.
 */

export interface Assignment {
  groupId: string;
  roleId: string;
}

export interface IdpSubject {
  issuer: string;
  subject: string;
}

export type UserStatus = 'active' | 'blocked';
export type ProvisionedBy = 'jit' | 'manual' | 'scim';

export interface User {
  id: string;
  orgId: string;
  /** Stored lowercased; compared case-insensitively. */
  email: string;
  firstName?: string;
  lastName?: string;
  status: UserStatus;
  provisionedBy: ProvisionedBy;
  jitProvisioned: boolean;
  assignments: Assignment[];
  idpSubject?: IdpSubject;
  createdAt: string;
  updatedAt: string;
  lastLoginAt?: string;
  /**
   * "Sign out everywhere": every session token issued at or before this second
   * (ISO-8601) is refused. Absent until someone signs the user out everywhere.
   */
  sessionsValidAfter?: string;
  /** What a SCIM client wrote about the user (shared/scim/): absent for users SCIM never touched. */
  scim?: ScimUserProfile;
}

/**
 * The SCIM attributes kept as written (API.md "SCIM 2.0 provisioning routes"): the derived
 * `email`, `firstName`, `lastName` and `status` live on the user itself.
 */
export interface ScimUserProfile {
  userName: string;
  externalId?: string;
  displayName?: string;
  emails?: { value: string; type?: string; primary?: boolean }[];
  /** The SCIM groups the user belongs to (read-only on the User resource), with their displayNames. */
  groups?: { value: string; display: string }[];
  /**
   * The user has no email address (`userName` is not one, and no `emails`): `email` then
   * holds the lowercased `userName` as the storage key and is shown as `null`.
   */
  emailless?: boolean;
}

/**
 * The stored form of an email: ASCII whitespace trimmed, ASCII letters lowercased. Only
 * ASCII: `toLowerCase()` folds characters such as the Kelvin sign (U+212A) into ASCII
 * letters, which would let `\u212Aate@acme.test` sign in as `kate@acme.test`.
 */
export const normalizeEmail = (email: string): string => email.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '').replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/** Whether a value is exactly one email address (not a list, not a display name). */
export const isEmailAddress = (value: string): boolean => value.length <= 320 && EMAIL.test(normalizeEmail(value));

/** The public shape of a user (API.md "User"), with `orgId` for `/me`. */
export function toUserView(user: User): Record<string, unknown> {
  return {
    id: user.id,
    email: user.scim?.emailless ? null : user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    status: user.status,
    provisionedBy: user.provisionedBy,
    jitProvisioned: user.jitProvisioned,
    assignments: user.assignments.map(({ groupId, roleId }) => ({ groupId, roleId })),
    idpSubject: user.idpSubject,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    lastLoginAt: user.lastLoginAt,
  };
}
