/**
 * Per identity provider: where in its admin console to paste which of our values, which
 * attributes to send, where to find its own values to paste back, for SAML and (where
 * it offers it) OIDC. Data only; the setup wizard renders it with the org's values.
 */
import type { Protocol } from '../api/types.js';

/** Our values an IdP needs. */
export type OurValue = 'spEntityId' | 'acsUrl' | 'metadataUrl' | 'redirectUri';

export const OUR_VALUE_LABELS: Record<OurValue, string> = {
  spEntityId: 'Service Provider Issuer',
  acsUrl: 'ACS URL',
  metadataUrl: 'SP metadata URL',
  redirectUri: 'Redirect URI',
};

/** The form field where one of their values goes. */
export type TheirValue = 'idpEntityId' | 'ssoUrl' | 'certificate' | 'metadataXml' | 'metadataUrl' | 'issuer' | 'clientId' | 'clientSecret';

export interface ProtocolGuide {
  /** Steps to create the app, in order. */
  steps: string[];
  /** Where each of our values goes: their field's name, in their words. */
  paste: { ours: OurValue; theirs: string }[];
  /** What to send: our attribute name, and their source for it. */
  attributes: { name: string; source: string }[];
  /** How to send the role attribute (named by the org's Role Name Attribute). */
  roles: string;
  /** Where to find each of their values to paste into our form. */
  find: { field: TheirValue; where: string }[];
  /** Anything else worth knowing. */
  notes?: string[];
}

export interface IdpGuide {
  id: string;
  name: string;
  saml?: ProtocolGuide;
  oidc?: ProtocolGuide;
}

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

export const GUIDES: readonly IdpGuide[] = [
  {
    id: 'okta',
    name: 'Okta',
    saml: {
      steps: [
        'In the Okta Admin Console open Applications > Applications and choose Create App Integration, then SAML 2.0.',
        'Give the app a name, then go on to Configure SAML.',
        'Name ID format: EmailAddress. Application username: Email.',
        'After saving, assign the people or groups who may sign in on the Assignments tab.',
      ],
      paste: [
        { ours: 'acsUrl', theirs: 'Single sign-on URL (keep “Use this for Recipient URL and Destination URL” checked)' },
        { ours: 'spEntityId', theirs: 'Audience URI (SP Entity ID)' },
      ],
      attributes: [
        { name: 'emailAddress', source: 'user.email' },
        { name: 'firstName', source: 'user.firstName' },
        { name: 'lastName', source: 'user.lastName' },
      ],
      roles:
        'Under Group Attribute Statements add one whose Name is the Role Name Attribute, with a filter that selects the groups to send (for example “Matches regex .*”). Group names are sent as the role values.',
      find: [
        { field: 'metadataUrl', where: 'Sign On tab > SAML 2.0 > Metadata URL (copy the link)' },
        { field: 'idpEntityId', where: 'Sign On tab > View SAML setup instructions > Identity Provider Issuer' },
        { field: 'ssoUrl', where: 'Sign On tab > View SAML setup instructions > Identity Provider Single Sign-On URL' },
        { field: 'certificate', where: 'Sign On tab > View SAML setup instructions > X.509 Certificate' },
      ],
    },
    oidc: {
      steps: [
        'In the Okta Admin Console open Applications > Applications, choose Create App Integration, then OIDC - OpenID Connect and Web Application.',
        'Grant type: Authorization Code.',
        'Assign the people or groups who may sign in on the Assignments tab.',
      ],
      paste: [{ ours: 'redirectUri', theirs: 'Sign-in redirect URIs' }],
      attributes: [
        { name: 'email', source: 'the standard email claim (scope email)' },
        { name: 'given_name', source: 'the standard claim (scope profile)' },
        { name: 'family_name', source: 'the standard claim (scope profile)' },
      ],
      roles: 'On the Sign On tab, under OpenID Connect ID Token, set a Groups claim named as the Role Name Attribute, with a filter that selects the groups to send.',
      find: [
        { field: 'issuer', where: 'your Okta URL, https://{your-domain}.okta.com (or the authorization server’s issuer under Security > API)' },
        { field: 'clientId', where: 'General tab > Client Credentials > Client ID' },
        { field: 'clientSecret', where: 'General tab > Client Credentials > Client secret' },
      ],
    },
  },
  {
    id: 'entra',
    name: 'Microsoft Entra ID',
    saml: {
      steps: [
        'In the Microsoft Entra admin center open Identity > Applications > Enterprise applications and choose New application, then Create your own application (“Integrate any other application you don’t find in the gallery”).',
        'Open Single sign-on and choose SAML.',
        'Under Users and groups, assign the people or groups who may sign in.',
      ],
      paste: [
        { ours: 'spEntityId', theirs: 'Basic SAML Configuration > Identifier (Entity ID)' },
        { ours: 'acsUrl', theirs: 'Basic SAML Configuration > Reply URL (Assertion Consumer Service URL)' },
        { ours: 'metadataUrl', theirs: 'or: Upload metadata file (save our SP metadata URL as a file first)' },
      ],
      attributes: [
        { name: `${CLAIMS}/emailaddress`, source: 'user.mail' },
        { name: `${CLAIMS}/givenname`, source: 'user.givenname' },
        { name: `${CLAIMS}/surname`, source: 'user.surname' },
      ],
      roles:
        'Under Attributes & Claims choose Add a group claim (or send app roles), and set its name to the Role Name Attribute (Customize the name of the group claim; Entra’s default is http://schemas.microsoft.com/ws/2008/06/identity/claims/groups). Choose “Cloud-only group display names” or sAMAccountName so names, not object IDs, are sent.',
      find: [
        { field: 'metadataUrl', where: 'SAML Certificates > App Federation Metadata Url' },
        { field: 'idpEntityId', where: 'the “Set up …” section (named after your app) > Microsoft Entra Identifier' },
        { field: 'ssoUrl', where: 'the “Set up …” section (named after your app) > Login URL' },
        { field: 'certificate', where: 'SAML Certificates > Certificate (Base64), downloaded and opened as text' },
      ],
      notes: [
        'Entra ID sends the names as claim URIs. Set “First name attribute” and “Last name attribute” in User Provisioning to the givenname and surname URIs above (the email URI is already in the default list), or rename the claims to firstName and lastName (clear their namespace).',
        'Name ID: user.userprincipalname or user.mail, format Email address.',
      ],
    },
    oidc: {
      steps: [
        'In the Microsoft Entra admin center open Identity > Applications > App registrations and choose New registration.',
        'Supported account types: accounts in this organizational directory only.',
        'Under Certificates & secrets create a New client secret and copy its Value at once (it is shown only then, and it expires).',
        'Under Token configuration add the optional ID token claims email, given_name and family_name.',
      ],
      paste: [{ ours: 'redirectUri', theirs: 'Redirect URI (platform Web)' }],
      attributes: [
        { name: 'email', source: 'optional claim email' },
        { name: 'given_name', source: 'optional claim given_name' },
        { name: 'family_name', source: 'optional claim family_name' },
      ],
      roles: 'Under Token configuration choose Add groups claim (the claim is named groups), or define App roles (the claim is named roles). The Role Name Attribute must be that claim’s name.',
      find: [
        { field: 'issuer', where: 'https://login.microsoftonline.com/{Directory (tenant) ID}/v2.0 (the tenant ID is on the Overview page)' },
        { field: 'clientId', where: 'Overview > Application (client) ID' },
        { field: 'clientSecret', where: 'Certificates & secrets > the new secret’s Value' },
      ],
    },
  },
  {
    id: 'google',
    name: 'Google Workspace',
    saml: {
      steps: [
        'In the Google Admin console (admin.google.com) open Apps > Web and mobile apps and choose Add app > Add custom SAML app.',
        'Name the app. On the Google Identity Provider details page, copy or download its values (below), then continue.',
        'Name ID format: EMAIL. Name ID: Basic Information > Primary email.',
        'After saving, open User access and turn the app ON for everyone or for the organizational units that may sign in.',
      ],
      paste: [
        { ours: 'acsUrl', theirs: 'Service provider details > ACS URL' },
        { ours: 'spEntityId', theirs: 'Service provider details > Entity ID' },
      ],
      attributes: [
        { name: 'emailAddress', source: 'Basic Information > Primary email' },
        { name: 'firstName', source: 'Basic Information > First name' },
        { name: 'lastName', source: 'Basic Information > Last name' },
      ],
      roles: 'Under Attribute mapping > Group membership, choose the groups to send and set the App attribute to the Role Name Attribute. The group names are the role values.',
      find: [
        { field: 'metadataXml', where: 'Google Identity Provider details > Download metadata (open the file and paste it)' },
        { field: 'idpEntityId', where: 'Google Identity Provider details > Entity ID' },
        { field: 'ssoUrl', where: 'Google Identity Provider details > SSO URL' },
        { field: 'certificate', where: 'Google Identity Provider details > Certificate' },
      ],
    },
  },
  {
    id: 'ping',
    name: 'PingOne / PingFederate',
    saml: {
      steps: [
        'PingOne: open Applications > Applications, add an application of type SAML Application, and choose to import metadata from a URL (our SP metadata URL) or enter the values by hand.',
        'PingFederate: create an SP Connection (Browser SSO profile, SAML 2.0) and import our SP metadata URL, or enter the values by hand.',
        'Subject / NameID: the email address.',
        'Enable the application and give access to the groups who may sign in.',
      ],
      paste: [
        { ours: 'metadataUrl', theirs: 'Import metadata from URL' },
        { ours: 'acsUrl', theirs: 'ACS URLs (PingFederate: Assertion Consumer Service URL, binding POST)' },
        { ours: 'spEntityId', theirs: 'Entity ID (PingFederate: Partner’s Entity ID)' },
      ],
      attributes: [
        { name: 'emailAddress', source: 'Email Address (user.email)' },
        { name: 'firstName', source: 'user.firstName' },
        { name: 'lastName', source: 'user.lastName' },
      ],
      roles: 'Add an attribute mapping named as the Role Name Attribute, with the user’s group names (PingOne: Group Names; PingFederate: memberOf through the attribute contract) as its source.',
      find: [
        { field: 'metadataUrl', where: 'PingOne: the application’s Configuration tab > IdP Metadata URL' },
        { field: 'idpEntityId', where: 'PingOne: Configuration tab > Issuer ID (PingFederate: the federation Base URL / SAML 2.0 Entity ID)' },
        { field: 'ssoUrl', where: 'PingOne: Configuration tab > Single Signon Service' },
        { field: 'certificate', where: 'PingOne: Configuration tab > Download Signing Certificate (PingFederate: the signing certificate, exported as PEM)' },
      ],
    },
    oidc: {
      steps: [
        'In PingOne open Applications > Applications and add an application of type OIDC Web App.',
        'Response type Code; grant type Authorization Code.',
        'Enable the application and give access to the groups who may sign in.',
      ],
      paste: [{ ours: 'redirectUri', theirs: 'Redirect URIs' }],
      attributes: [
        { name: 'email', source: 'Email Address' },
        { name: 'given_name', source: 'Given Name' },
        { name: 'family_name', source: 'Family Name' },
      ],
      roles: 'Under Attribute Mappings add a claim named as the Role Name Attribute with Group Names as its source.',
      find: [
        { field: 'issuer', where: 'Configuration tab > Issuer (https://auth.pingone.com/{environment ID}/as)' },
        { field: 'clientId', where: 'Configuration tab > Client ID' },
        { field: 'clientSecret', where: 'Configuration tab > Client Secret' },
      ],
    },
  },
  {
    id: 'adfs',
    name: 'ADFS',
    saml: {
      steps: [
        'In AD FS Management open Relying Party Trusts and choose Add Relying Party Trust (Claims aware).',
        'Choose “Import data about the relying party published online or on a local network” and give our SP metadata URL; or enter the data by hand.',
        'Choose who may sign in (the access control policy), then finish and open Edit Claim Issuance Policy.',
        'Add a rule “Send LDAP Attributes as Claims” (attribute store: Active Directory) with the attributes below, and a rule “Transform an Incoming Claim” from E-Mail Address to Name ID (format Email).',
      ],
      paste: [
        { ours: 'metadataUrl', theirs: 'Federation metadata address' },
        { ours: 'spEntityId', theirs: 'Relying party trust identifier' },
        { ours: 'acsUrl', theirs: 'Relying party SAML 2.0 SSO service URL (“Enable support for the SAML 2.0 WebSSO protocol”)' },
      ],
      attributes: [
        { name: 'E-Mail Address', source: 'LDAP attribute E-Mail-Addresses' },
        { name: 'Given Name', source: 'LDAP attribute Given-Name' },
        { name: 'Surname', source: 'LDAP attribute Surname' },
      ],
      roles:
        'Add a rule “Send Group Membership as a Claim” per group, or map the LDAP attribute Token-Groups - Unqualified Names to an outgoing claim type named exactly as the Role Name Attribute.',
      find: [
        { field: 'metadataUrl', where: 'https://{your ADFS host}/FederationMetadata/2007-06/FederationMetadata.xml' },
        { field: 'idpEntityId', where: 'AD FS > Service > Edit Federation Service Properties > Federation Service Identifier (usually http://{host}/adfs/services/trust)' },
        { field: 'ssoUrl', where: 'https://{your ADFS host}/adfs/ls/' },
        { field: 'certificate', where: 'AD FS > Service > Certificates > Token-signing, View Certificate > Details > Copy to File (Base-64 encoded X.509)' },
      ],
      notes: [
        `ADFS sends the claim types as URIs: E-Mail Address is ${CLAIMS}/emailaddress (in our default list), Given Name is ${CLAIMS}/givenname and Surname is ${CLAIMS}/surname. Set “First name attribute” and “Last name attribute” in User Provisioning to those two URIs.`,
      ],
    },
  },
  {
    id: 'saml',
    name: 'Another SAML 2.0 identity provider',
    saml: {
      steps: [
        'Create a SAML 2.0 application (service provider) in your identity provider, or import our SP metadata URL if it can.',
        'Bindings: our sign-in requests use HTTP-Redirect; responses must be posted to our ACS URL (HTTP-POST). Sign the response or the assertion with RSA-SHA256.',
        'NameID: the user’s email address (format emailAddress).',
      ],
      paste: [
        { ours: 'spEntityId', theirs: 'SP Entity ID / Audience URI' },
        { ours: 'acsUrl', theirs: 'ACS URL / Reply URL / Single sign-on URL / Recipient' },
        { ours: 'metadataUrl', theirs: 'SP metadata URL (if it imports metadata)' },
      ],
      attributes: [
        { name: 'emailAddress', source: 'the user’s email address (needed when the NameID is not the email)' },
        { name: 'firstName', source: 'the user’s first name' },
        { name: 'lastName', source: 'the user’s last name' },
      ],
      roles: 'Send the user’s roles or groups as the values of an attribute named as the Role Name Attribute (one value per role).',
      find: [
        { field: 'metadataUrl', where: 'its IdP metadata URL, if it publishes one' },
        { field: 'metadataXml', where: 'or its IdP metadata document' },
        { field: 'idpEntityId', where: 'or by hand: its entity ID (issuer)' },
        { field: 'ssoUrl', where: 'its single sign-on URL (HTTP-Redirect binding)' },
        { field: 'certificate', where: 'its signing certificate (PEM)' },
      ],
    },
  },
  {
    id: 'oidc',
    name: 'Another OpenID Connect provider',
    oidc: {
      steps: [
        'Register a web application (confidential client) with the authorization code flow. We use PKCE (S256), state and nonce.',
        'Scopes: openid email profile.',
      ],
      paste: [{ ours: 'redirectUri', theirs: 'Redirect URI / callback URL' }],
      attributes: [
        { name: 'email', source: 'the verified email (email_verified must not be false)' },
        { name: 'given_name', source: 'the first name' },
        { name: 'family_name', source: 'the last name' },
      ],
      roles: 'Put the user’s roles or groups in an ID token claim named as the Role Name Attribute (an array of strings).',
      find: [
        { field: 'issuer', where: 'its issuer URL (the one serving /.well-known/openid-configuration)' },
        { field: 'clientId', where: 'the client ID of the application' },
        { field: 'clientSecret', where: 'the client secret of the application' },
      ],
    },
  },
];

export const THEIR_VALUE_LABELS: Record<TheirValue, string> = {
  idpEntityId: 'Identity Provider Issuer',
  ssoUrl: 'SSO URL',
  certificate: 'Add certificate (PEM)',
  metadataXml: 'IdP metadata XML',
  metadataUrl: 'Metadata URL',
  issuer: 'Issuer',
  clientId: 'Client ID',
  clientSecret: 'Client secret',
};

export const protocolsOf = (guide: IdpGuide): Protocol[] => (['saml', 'oidc'] as const).filter((protocol) => guide[protocol] !== undefined);
