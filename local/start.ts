/**
 * `npm start`: the whole service on this machine. DynamoDB Local (embedded, in memory
 * unless DATA_DIR), the tables from the shared definitions, every route on PORT through
 * the same handlers Lambda runs, and (unless SEED_DEMO=0) a `demo` org wired to a
 * development SAML IdP. Prints the URLs, the DynamoDB endpoint and an admin token.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ROUTES } from '../functions/routes.js';
import { createRuntime, type Runtime } from '../functions/runtime.js';
import { readConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import { createOrg } from '../shared/settings/orgs.js';
import { addRoleMapping } from '../shared/settings/role-mappings.js';
import { updateProvisioningSettings, updateSsoSettings } from '../shared/settings/settings-service.js';
import { orgUrls } from '../shared/settings/urls.js';
import { matchKey } from '../shared/provisioning/role-mapping.js';
import { devIdpEntityId, devIdpPath, devIdpRoutes } from './dev-idp.js';
import { createDynamoClient, createTables, startDynamoDbLocal } from './dynamodb.js';
import { createHandlers } from './handlers.js';
import { createLocalServer, listenLocalServer } from './http-server.js';
import { LOCAL_DIR, localStackEnv } from './local-config.js';
import { createSamlIdpKeys, type SamlIdpKeys } from './saml-idp.js';

const DEMO_ORG = 'demo';
const DEMO_ADMIN = 'admin@demo.example';
const ROLE_ATTRIBUTE = 'groups';
const cli = { type: 'cli', id: 'npm-start' } as const;

/** The demo IdP's key survives restarts (git-ignored), so a DATA_DIR org keeps trusting it. */
async function demoIdpKeys(entityId: string): Promise<SamlIdpKeys> {
  const path = `${LOCAL_DIR}/dev-idp.json`;
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as SamlIdpKeys;
    if (stored.entityId === entityId) return stored;
  }
  const keys = await createSamlIdpKeys(entityId);
  mkdirSync(LOCAL_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

/** Configures the demo org through the same domain functions the settings API uses. */
async function seedDemo(rt: Runtime, idp: SamlIdpKeys, baseUrl: string): Promise<void> {
  try {
    await createOrg(rt, { orgId: DEMO_ORG, name: 'Demo', adminEmail: DEMO_ADMIN }, cli);
  } catch (error) {
    if (error instanceof AppError && error.code === 'CONFLICT') return; // kept from an earlier run (DATA_DIR)
    throw error;
  }
  const context = { orgId: DEMO_ORG, actor: cli };
  await updateSsoSettings(
    rt,
    context,
    { enabled: true, protocol: 'saml', saml: { idpEntityId: idp.entityId, ssoUrl: `${baseUrl}${devIdpPath(DEMO_ORG)}`, certificates: [idp.certificatePem] } },
  );
  for (const [roleId, idpValue] of [
    ['organization-admin', 'Admins'],
    ['account-admin', 'Engineering'],
    ['regular-user', 'Staff'],
  ] as const) {
    await addRoleMapping(rt, context, { roleId, groupIds: ['default'], idpValue });
  }
  await updateProvisioningSettings(rt, context, { method: 'jit', jit: { roleSource: 'idp', roleAttribute: ROLE_ATTRIBUTE, onNoRoleMatch: 'default' } });
}

async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.PORT ?? 3000);
  const dynamo = env.DYNAMODB_ENDPOINT
    ? { endpoint: env.DYNAMODB_ENDPOINT, stop: async () => {} }
    : await startDynamoDbLocal({ port: Number(env.DYNAMODB_PORT ?? 8000), dataDir: env.DATA_DIR });
  const config = readConfig(localStackEnv(env, dynamo.endpoint));
  await createTables(createDynamoClient(dynamo.endpoint), config.tables);
  const rt = createRuntime(config);

  const idps = new Map<string, SamlIdpKeys>();
  if (env.SEED_DEMO !== '0') {
    const idp = await demoIdpKeys(devIdpEntityId(config.baseUrl, DEMO_ORG));
    await seedDemo(rt, idp, config.baseUrl);
    idps.set(DEMO_ORG, idp);
  }
  const server = createLocalServer({
    routes: ROUTES,
    handlers: createHandlers(rt),
    baseUrl: config.baseUrl,
    extraRoutes: devIdpRoutes({
      baseUrl: config.baseUrl,
      idps,
      roleAttribute: ROLE_ATTRIBUTE,
      roleValues: async (orgId) => {
        const settings = await rt.settings.get(orgId);
        return settings.roleMappings.map((mapping) => matchKey(mapping, settings.roles)).filter((key): key is string => key !== undefined);
      },
    }),
  });
  const http = await listenLocalServer(server, port, env.HOST ?? '127.0.0.1');

  const lines = [
    `sso-jit local stack`,
    `  API              ${config.baseUrl}`,
    `  DynamoDB         ${dynamo.endpoint}   (tables ${config.tables.users.replace(/-users$/, '')}-*)`,
  ];
  if (idps.has(DEMO_ORG)) {
    const admin = await rt.users.findByEmail(DEMO_ORG, DEMO_ADMIN);
    const urls = orgUrls(config.baseUrl, DEMO_ORG);
    lines.push(
      `  Demo org         ${DEMO_ORG} (SAML, JIT on, roles from "${ROLE_ATTRIBUTE}": Admins, Engineering, Staff)`,
      `  Sign in          ${config.baseUrl}${devIdpPath(DEMO_ORG)}   (development IdP; then see yourself at ${config.baseUrl}/me)`,
      `  SP metadata      ${urls.metadataUrl}`,
      `  ACS              ${urls.acsUrl}`,
      `  Admin token      ${admin ? await rt.sessions.issue(admin) : '(demo admin missing)'}`,
      `                   (${DEMO_ADMIN}; try: curl -H "Authorization: Bearer <token>" ${config.baseUrl}/me)`,
    );
  }
  lines.push(`  CLI              DYNAMODB_ENDPOINT=${dynamo.endpoint} npx sso-jit token --org ${DEMO_ORG} --email ${DEMO_ADMIN}`, 'Ctrl-C stops everything.');
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await http.close();
    await dynamo.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
