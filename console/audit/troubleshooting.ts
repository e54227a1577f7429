/**
 * What each login failure code means and how an admin fixes it: one entry per login
 * code of API.md's error table, shown under a failed sign-in in the audit log and on a
 * test sign-in's result. Data only; `troubleshooting.test.ts` checks it covers the table.
 */
import type { Route } from '../app/routes.js';

export interface Fix {
  /** What happened, in a sentence. */
  meaning: string;
  /** What to do, most likely first. */
  steps: string[];
  /** The console page where the fix is made. */
  where?: { label: string; route: Route };
}

const SSO = { label: 'Single Sign On', route: { name: 'sso' } } as const;
const PROVISIONING = { label: 'User Provisioning', route: { name: 'provisioning' } } as const;
const USERS = { label: 'Users', route: { name: 'users' } } as const;

export const TROUBLESHOOTING = {
  SSO_NOT_ENABLED: {
    meaning: 'SSO is turned off for the organization, or the sign-in used the other protocol (SAML vs OIDC).',
    steps: ['Turn on “Enable SSO”.', 'Check that the protocol chosen here is the one the identity provider’s app uses.'],
    where: SSO,
  },
  USER_NOT_PROVISIONED: {
    meaning: 'Nobody here has this email, and the provisioning method does not create users at sign-in (it is not SSO JIT).',
    steps: [
      'Add the user under Users, or set the provisioning method to “SSO JIT” to create users at their first sign-in.',
      'With SCIM, check that the identity provider has pushed this user (and that it is active).',
    ],
    where: PROVISIONING,
  },
  IDP_ISSUER_MISMATCH: {
    meaning: 'The Issuer in the response is not the configured “Identity Provider Issuer”.',
    steps: [
      'Compare expected and received. If the received Issuer is your identity provider, put exactly that value in “Identity Provider Issuer”: the comparison is exact (a trailing slash, http instead of https, or case all count).',
      'Or load the values from the identity provider’s metadata (XML or Metadata URL), which sets the issuer for you.',
      'If you do not recognise the received issuer, someone else’s identity provider posted to your ACS URL: do not change anything.',
    ],
    where: SSO,
  },
  AUDIENCE_MISMATCH: {
    meaning: 'The assertion’s Audience is not our “Service Provider Issuer”.',
    steps: [
      'In the identity provider’s app, set the Audience URI (also called SP Entity ID, Identifier or Entity ID) to exactly our “Service Provider Issuer”, copied from the Single Sign On page.',
    ],
    where: SSO,
  },
  DESTINATION_MISMATCH: {
    meaning: 'The response’s Destination (or the assertion’s Recipient) is not our ACS URL.',
    steps: [
      'In the identity provider’s app, set the Single sign-on URL (also called ACS URL, Reply URL, Recipient or Destination) to exactly our “ACS URL”, copied from the Single Sign On page.',
      'An app copied from another organization still points at that organization’s ACS URL: each organization has its own.',
    ],
    where: SSO,
  },
  ROLE_NOT_MAPPED: {
    meaning: 'The role attribute was sent, but none of its values matches a role mapping.',
    steps: [
      'Role names must match exactly: case and spacing count. “Admins”, “admins” and “Admins ” are three different values. Compare the received values with the mappings’ IdP values (or, where a mapping has none, the role’s name).',
      'Fix the value at the identity provider, or add a mapping whose IdP value is exactly the received value (use the Preview box to try it).',
      'Or choose “Give the default role in the default group” for sign-ins that match nothing.',
    ],
    where: PROVISIONING,
  },
  ROLE_ATTRIBUTE_MISSING: {
    meaning: 'The “Role Name Attribute” was not in the sign-in at all.',
    steps: [
      'Look at the attribute names received: if another one carries the roles, choose it as “Role Name Attribute” (names are exact, and claim URIs are long).',
      'Otherwise make the identity provider send it: a group attribute statement (Okta), a group or role claim (Entra ID), group membership (Google), a claim rule (ADFS).',
      'The user may have no group or role assigned at the identity provider. To let such users in anyway, give the default role when nothing matches.',
    ],
    where: PROVISIONING,
  },
  EMAIL_MISSING: {
    meaning: 'No email address was found: the NameID is not an email address, and none of the email attributes was sent.',
    steps: [
      'Have the identity provider send the email as the NameID (format emailAddress), or as an attribute named emailAddress, name or Email.',
      'Or list the attribute your identity provider uses under “Email attributes” in User Provisioning.',
    ],
    where: PROVISIONING,
  },
  ASSERTION_EXPIRED: {
    meaning: 'The assertion’s validity (NotOnOrAfter) had ended when it arrived.',
    steps: [
      'Usually clock skew: check that the identity provider’s clock is right (NTP).',
      'A slow sign-in, or a page reloaded after a while, posts an old response: sign in again.',
      'You can allow up to 300 seconds of skew under Advanced SAML options.',
    ],
    where: SSO,
  },
  ASSERTION_NOT_YET_VALID: {
    meaning: 'The assertion is not valid yet (NotBefore is in the future by more than the allowed skew).',
    steps: [
      'Clock skew: the identity provider’s clock is ahead of ours. Fix its time (NTP).',
      'Or allow more skew under Advanced SAML options (“Clock skew (seconds)”, at most 300).',
    ],
    where: SSO,
  },
  SIGNATURE_INVALID: {
    meaning: 'The response is not signed, or it is signed with a key that none of the configured certificates matches, or the signature does not verify.',
    steps: [
      'Certificate mismatch is the usual cause: download the identity provider’s current signing certificate (or its metadata) and add it under Signing certificates.',
      'After a certificate rollover at the identity provider, add the new certificate (keep the old one until the switch is complete).',
      'Make sure the identity provider signs the response or the assertion (some apps have this off).',
    ],
    where: SSO,
  },
  CERTIFICATE_EXPIRED: {
    meaning: 'The certificate that matches the signature is past its expiry date.',
    steps: [
      'Get the identity provider’s new signing certificate (or re-import its metadata) and add it; then remove the expired one.',
      'The fingerprint in the details names the expired certificate; the Single Sign On page marks certificates that expire within 30 days.',
    ],
    where: SSO,
  },
  IN_RESPONSE_TO_INVALID: {
    meaning: 'The response answers a sign-in request we did not send, one that expired, or one that was already answered.',
    steps: [
      'Start the sign-in again from the application, in the same browser.',
      'If people start from the identity provider’s dashboard, it must not set InResponseTo; allow IdP-initiated sign-in for those.',
    ],
    where: SSO,
  },
  ASSERTION_REPLAYED: {
    meaning: 'This assertion was already used once; each can sign in only once.',
    steps: [
      'Sign in again: the browser’s back button or a double submit posts the same response twice.',
      'Many replays from one address may be an attack: look at the other failures from it.',
    ],
  },
  STATE_INVALID: {
    meaning: 'The OIDC state is unknown, expired or already used.',
    steps: [
      'Start the sign-in again. It has to complete within a few minutes, in the browser that started it.',
      'A bookmarked or shared callback URL never works: start from the sign-in page.',
    ],
  },
  NONCE_MISMATCH: {
    meaning: 'The ID token’s nonce is not the one sent in the authorization request.',
    steps: ['Start the sign-in again.', 'If it keeps happening, the identity provider is not copying the nonce into the ID token: check its app configuration.'],
    where: SSO,
  },
  ID_TOKEN_INVALID: {
    meaning: 'The ID token failed a check: its signature (the issuer’s JWKS), iss, aud, azp, exp, iat or its algorithm.',
    steps: [
      'Compare expected and received: “Issuer” must equal the token’s iss exactly (a trailing slash counts), and the audience must be our Client ID.',
      'Check both clocks (NTP) if the times are off.',
    ],
    where: SSO,
  },
  OIDC_TOKEN_EXCHANGE_FAILED: {
    meaning: 'The identity provider refused to exchange the authorization code for tokens.',
    steps: [
      'Check the Client ID and the Client secret: secrets expire (Entra ID client secrets do), so create a new one and paste it.',
      'Check that the redirect URI registered at the identity provider is exactly our Redirect URI.',
    ],
    where: SSO,
  },
  EMAIL_NOT_VERIFIED: {
    meaning: 'The identity provider says the user’s email address is not verified (email_verified is false).',
    steps: ['Verify the email address at the identity provider, or have it send email_verified: true for accounts it manages.'],
  },
  USER_BLOCKED: {
    meaning: 'The user is blocked here, so they cannot sign in (and JIT does not re-create them).',
    steps: ['If they should have access, open the user under Users and choose Unblock.'],
    where: USERS,
  },
  SUBJECT_MISMATCH: {
    meaning: 'The email belongs to a user linked to another subject (NameID or sub) of this identity provider.',
    steps: [
      'If the person’s account at the identity provider was recreated (a new subject for the same person), open the user under Users and unlink the IdP subject; the next sign-in links the new one.',
      'Otherwise treat it as an attempt to take over the account: a recycled or spoofed email address.',
    ],
    where: USERS,
  },
  IDP_INITIATED_DISABLED: {
    meaning: 'The sign-in started at the identity provider (no request from us), and IdP-initiated sign-in is turned off.',
    steps: ['Start from the application’s sign-in page, or turn on “Allow IdP-initiated sign-in” under Advanced SAML options.'],
    where: SSO,
  },
  SAML_MALFORMED: {
    meaning: 'The SAMLResponse is not a readable SAML 2.0 response (bad base64, not XML, a wrong structure, or too large).',
    steps: [
      'Check that the identity provider posts to our ACS URL with the HTTP-POST binding.',
      'A proxy or browser extension that rewrites forms can damage it; try another browser.',
    ],
  },
  IDP_STATUS_ERROR: {
    meaning: 'The identity provider answered with an error status instead of an assertion.',
    steps: [
      'The received status says why. Most often the user is not assigned to the app at the identity provider, or the app’s set-up there is incomplete.',
    ],
  },
  RELAY_STATE_INVALID: {
    meaning: 'The RelayState (or fwd) is not a path on this site.',
    steps: [
      'Use a path starting with a single “/”, such as /console. A default RelayState configured at the identity provider must follow the same rule.',
    ],
  },
  ALGORITHM_NOT_ALLOWED: {
    meaning: 'The signature or encryption uses an algorithm that is not accepted (SHA-1, an unsupported encryption algorithm, or AES-CBC in a Response that is not signed).',
    steps: [
      'Set the identity provider’s app to sign with RSA-SHA256 and a SHA-256 digest.',
      'If it cannot, turn on “Accept SHA-1 signatures” under Advanced SAML options.',
      'For encryption use AES-GCM content with RSA-OAEP key transport (SHA-1 or SHA-256 digest); RSA-1_5 and 3DES are refused. AES-CBC is accepted only when the whole Response is signed too.',
    ],
    where: SSO,
  },
  DECRYPTION_FAILED: {
    meaning: 'The encrypted assertion could not be decrypted with our key.',
    steps: [
      'The identity provider must encrypt with the encryption certificate in our current SP metadata: re-import our SP metadata URL there. After an SP key rotation the previous certificate keeps working only until the next rotation.',
    ],
    where: SSO,
  },
  ASSERTION_NOT_ENCRYPTED: {
    meaning: 'A plain (unencrypted) assertion arrived while encrypted assertions are required.',
    steps: [
      'Turn on assertion encryption at the identity provider, with the encryption certificate from our SP metadata.',
      'Or turn off “Require encrypted assertions” under Advanced SAML options.',
    ],
    where: SSO,
  },
} as const satisfies Record<string, Fix>;

export type LoginCode = keyof typeof TROUBLESHOOTING;

/** The fix for a code, when it is a login code. */
export const fixFor = (code: string | undefined): Fix | undefined =>
  code !== undefined && Object.hasOwn(TROUBLESHOOTING, code) ? TROUBLESHOOTING[code as LoginCode] : undefined;
