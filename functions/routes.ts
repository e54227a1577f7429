/**
 * Every HTTP route and the function (bundle) that serves it, defined once: the CDK
 * stack creates one NodejsFunction per function and one HTTP API route per entry;
 * the local server dispatches on the same table. No CDK import here.
 */

export interface FunctionDefinition {
  /** Logical id: CDK construct id and the local server's handler key. */
  id: string;
  /** Entry file, relative to the repository root; it exports `handler`. */
  entry: string;
  /** Which tables the function uses and how (least privilege in AWS). */
  tables: { users?: 'read' | 'write'; mappings?: 'read' | 'write'; audit?: 'read' | 'write'; loginState?: 'read' | 'write' };
  /** Whether it signs sessions (needs the signing key) or only verifies them. */
  sessionKeys: 'sign' | 'verify' | 'none';
}

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: `{name}` segments. */
  path: string;
  functionId: FunctionDefinition['id'];
}

export const FUNCTIONS = {
  acs: {
    id: 'Acs',
    entry: 'functions/acs.ts',
    tables: { users: 'write', mappings: 'read', audit: 'write', loginState: 'write' },
    sessionKeys: 'sign',
  },
  samlMetadata: { id: 'SamlMetadata', entry: 'functions/saml-metadata.ts', tables: { mappings: 'read' }, sessionKeys: 'none' },
  session: { id: 'Session', entry: 'functions/session.ts', tables: { users: 'read' }, sessionKeys: 'verify' },
} as const satisfies Record<string, FunctionDefinition>;

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/health', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/.well-known/jwks.json', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/me', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/sso/{orgId}/saml/metadata', functionId: FUNCTIONS.samlMetadata.id },
  { method: 'POST', path: '/sso/{orgId}/saml/acs', functionId: FUNCTIONS.acs.id },
];
