import { createSamlIdpKeys, buildSignedLoginResponse } from '../../../local/saml-idp.js';
import { validateSamlResponse } from '../../../shared/saml/index.js';
const idp = await createSamlIdpKeys('https://idp.example.com/metadata');
const now = new Date();
const sp = { entityId: 'https://sp.example.com/m', acsUrl: 'https://sp.example.com/acs' };
const r = buildSignedLoginResponse({ idp, spEntityId: sp.entityId, acsUrl: sp.acsUrl, nameId: 'a@acme.com', attributes: { groups: ['x','y'], firstName: 'A', lastName: 'B', email: 'a@acme.com' }, now });
const input = { samlResponse: r, sp, idp: { entityId: idp.entityId, certificates: [idp.certificatePem] }, clockSkewSeconds: 60, now };
for (let i = 0; i < 2000; i++) await validateSamlResponse(input);
