/**
 * Single logout against another SAML implementation: Debian's pysaml2 (with xmlsec1) as
 * the IdP (test/support/pysaml2_slo.py, run with /usr/bin/python3). pysaml2 signs a
 * LogoutRequest by the HTTP-Redirect binding; the service revokes the session and
 * answers; pysaml2 verifies our LogoutResponse with the certificate of our SP metadata.
 *
 * It fails (never skips) when pysaml2 is missing: `.ci/run` installs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../support/pysaml2_slo.py', import.meta.url));
const IDP_ENTITY_ID = 'https://pysaml2-idp.example.test/metadata';
const IDP_SLO_URL = 'https://pysaml2-idp.example.test/slo';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

let service: TestService;
let org: SamlOrg;
let idp: SamlIdpKeys;
let dir: string;
let common: Record<string, string>;

/** Runs the pysaml2 script with `args` on stdin: its JSON answer. */
function pysaml2(command: string, args: Record<string, unknown>): any {
  const run = spawnSync(PYTHON, [SCRIPT, command], { input: JSON.stringify({ ...common, ...args }), encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`pysaml2_slo.py ${command} exited ${run.status}: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

beforeAll(async () => {
  const sp = await createSamlIdpKeys('sp');
  service = await startTestService({ spKey: { privateKeyPem: sp.privateKeyPem, certificatePem: sp.certificatePem } });
  idp = await createSamlIdpKeys(IDP_ENTITY_ID);
  org = await createSamlOrg(service, { idp, saml: { sloUrl: IDP_SLO_URL } });
  // Keys made at run time, in a temporary folder removed afterwards: nothing is committed.
  dir = mkdtempSync(join(tmpdir(), 'sso-jit-pysaml2-'));
  writeFileSync(join(dir, 'idp.key'), idp.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'idp.crt'), idp.certificatePem);
  writeFileSync(join(dir, 'sp-metadata.xml'), await (await fetch(org.urls.metadataUrl)).text());
  common = {
    idp_entity_id: IDP_ENTITY_ID,
    idp_sso_url: 'https://pysaml2-idp.example.test/sso',
    idp_slo_url: IDP_SLO_URL,
    key_file: join(dir, 'idp.key'),
    cert_file: join(dir, 'idp.crt'),
    sp_metadata_file: join(dir, 'sp-metadata.xml'),
    sp_entity_id: org.urls.spEntityId,
    sp_slo_url: org.urls.singleLogoutUrl,
  };
});
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await service?.close();
});

async function signIn(nameId: string, sessionIndex: string): Promise<string> {
  const SAMLResponse = buildSignedLoginResponse({ idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId, sessionIndex, attributes: { groups: ['Admins'] }, now: service.clock.now() });
  const response = await postAcs(service, org.orgId, { SAMLResponse });
  expect(response.status).toBe(302);
  return sessionCookieOf(response)!;
}

/** The value of an HTML form field as pysaml2 wrote it (attribute-escaped). */
const decodeHtml = (value: string) => value.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

const meStatus = async (token: string) => (await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('single logout with pysaml2 as the IdP', () => {
  it('has pysaml2 and xmlsec1 to test with', () => {
    const run = spawnSync(PYTHON, ['-c', 'import saml2, shutil; assert shutil.which("xmlsec1"), "xmlsec1 missing"; print(saml2.__name__)'], { encoding: 'utf8' });

    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('saml2');
  });

  it("revokes the session pysaml2's signed LogoutRequest names, and pysaml2 verifies our signed LogoutResponse with our SP metadata", async () => {
    const email = 'interop@acme.test';
    const ended = await signIn(email, 'py-idx-1');
    const kept = await signIn(email, 'py-idx-2');
    const request = pysaml2('logout-request', { name_id: email, name_id_format: EMAIL_FORMAT, session_index: 'py-idx-1', relay_state: 'pysaml2-state' });
    expect(new URL(request.location).pathname).toBe(new URL(org.urls.singleLogoutUrl).pathname);

    const response = await fetch(`${service.baseUrl}${new URL(request.location).pathname}${new URL(request.location).search}`, { redirect: 'manual' });

    expect(response.status).toBe(302);
    expect(await meStatus(ended)).toBe(401);
    expect(await meStatus(kept)).toBe(200);
    const verified = pysaml2('verify-logout-response', { location: response.headers.get('location') });
    expect(verified).toEqual({
      signature_valid: true,
      sig_alg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      relay_state: 'pysaml2-state',
      in_response_to: request.id,
      issuer: org.urls.spEntityId,
      destination: IDP_SLO_URL,
      status: 'urn:oasis:names:tc:SAML:2.0:status:Success',
    });
  });

  it("revokes the session of pysaml2's LogoutRequest signed by xmlsec1 (HTTP-POST, enveloped signature)", async () => {
    const email = 'posted@acme.test';
    const ended = await signIn(email, 'py-idx-p1');
    const kept = await signIn(email, 'py-idx-p2');
    const request = pysaml2('logout-request-post', { name_id: email, name_id_format: EMAIL_FORMAT, session_index: 'py-idx-p1', relay_state: 'posted-state' });

    const response = await fetch(org.urls.singleLogoutUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLRequest: decodeHtml(request.SAMLRequest), RelayState: decodeHtml(request.RelayState) }).toString(),
    });

    expect(response.status).toBe(302);
    expect(await meStatus(ended)).toBe(401);
    expect(await meStatus(kept)).toBe(200);
    const verified = pysaml2('verify-logout-response', { location: response.headers.get('location') });
    expect(verified).toMatchObject({ signature_valid: true, relay_state: 'posted-state', in_response_to: request.id });
  });

  it("makes pysaml2 refuse our LogoutResponse's signature once its RelayState is changed (the check is real)", async () => {
    await signIn('tamper@acme.test', 'py-idx-3');
    const request = pysaml2('logout-request', { name_id: 'tamper@acme.test', name_id_format: EMAIL_FORMAT, session_index: 'py-idx-3', relay_state: 'original' });
    const response = await fetch(`${service.baseUrl}${new URL(request.location).pathname}${new URL(request.location).search}`, { redirect: 'manual' });
    const tampered = response.headers.get('location')!.replace('RelayState=original', 'RelayState=changed');

    expect(pysaml2('verify-logout-response', { location: tampered }).signature_valid).toBe(false);
  });
});
