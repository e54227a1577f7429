/**
 * The one error model of sso-jit.
 *
 * Every failure the service reports is an `AppError` with a stable `code` from the
 * HTTP contract (../shared/API.md "Errors"), the HTTP `status` it maps to, and
 * `expose` saying whether `message` may reach the caller. Exactly one middleware
 * (`errorResponder` in functions/http/middleware.ts) turns these into responses; anything else becomes a
 * generic 500 with a correlation id.
 */

export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  METADATA_FETCH_FAILED: 400,
  SAML_MALFORMED: 400,
  RELAY_STATE_INVALID: 400,
  UNAUTHENTICATED: 401,
  SIGNATURE_INVALID: 401,
  ALGORITHM_NOT_ALLOWED: 401,
  CERTIFICATE_EXPIRED: 401,
  ASSERTION_NOT_ENCRYPTED: 401,
  DECRYPTION_FAILED: 401,
  IDP_ISSUER_MISMATCH: 401,
  AUDIENCE_MISMATCH: 401,
  DESTINATION_MISMATCH: 401,
  IDP_STATUS_ERROR: 401,
  ASSERTION_EXPIRED: 401,
  ASSERTION_NOT_YET_VALID: 401,
  IN_RESPONSE_TO_INVALID: 401,
  ASSERTION_REPLAYED: 401,
  STATE_INVALID: 401,
  OIDC_TOKEN_EXCHANGE_FAILED: 401,
  ID_TOKEN_INVALID: 401,
  NONCE_MISMATCH: 401,
  FORBIDDEN: 403,
  CSRF_REJECTED: 403,
  SSO_NOT_ENABLED: 403,
  IDP_INITIATED_DISABLED: 403,
  USER_NOT_PROVISIONED: 403,
  EMAIL_MISSING: 403,
  EMAIL_NOT_VERIFIED: 403,
  ROLE_ATTRIBUTE_MISSING: 403,
  ROLE_NOT_MAPPED: 403,
  USER_BLOCKED: 403,
  SUBJECT_MISMATCH: 403,
  ORG_NOT_FOUND: 404,
  NOT_FOUND: 404,
  NO_SSO_FOR_EMAIL: 404,
  DOMAIN_NOT_VERIFIED: 409,
  JIT_REQUIRES_SSO: 409,
  SSO_REQUIRED_BY_JIT: 409,
  LAST_ADMIN_MAPPING: 409,
  CONFLICT: 409,
  /** A method the path does not allow (a write to a SCIM discovery endpoint). */
  METHOD_NOT_ALLOWED: 405,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
  /** A dependency (DynamoDB) is throttled, slow or down: try again after `retryAfterSeconds`. */
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Expected and received values of a mismatch, recorded for the admin (never secrets). */
export interface ErrorDetails {
  expected?: unknown;
  received?: unknown;
  [key: string]: unknown;
}

export interface AppErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
  /** Whether `message` may be shown to the caller. Defaults to true for every status below 500. */
  expose?: boolean;
  /** When a retry may succeed, in seconds: sent as `Retry-After` (with `SERVICE_UNAVAILABLE`). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: ErrorDetails;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details ?? {};
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * A login that was refused. Its `details` go into the `login.failed` audit event
 * (expected and received values, IdP issuer, subject, attribute names), so an admin
 * can see why it failed without the raw response. The message is what the person
 * signing in sees.
 */
export class LoginError extends AppError {
  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.name = 'LoginError';
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
