/**
 * Reads the SAML settings an admin would otherwise type (`idpEntityId`, `ssoUrl`,
 * `certificates`, and `sloUrl` when the IdP offers single logout) from SAML 2.0 IdP metadata pasted as `saml.metadataXml` (API.md
 * "Admin routes").
 *
 * Vendors shape metadata differently: Okta and PingOne use an `md:` prefix, Entra ID
 * and ADFS the default namespace with a Signature and WS-Federation RoleDescriptors
 * beside the IDPSSODescriptor, Entra ID lists several signing certificates, Google
 * omits `use` on its KeyDescriptor. So every lookup is by namespace and local name,
 * and only the IDPSSODescriptor's own KeyDescriptors count. The metadata's own
 * signature is not verified: the admin pasting it is the trust anchor.
 */
import type { Element } from '@xmldom/xmldom';
import { AppError } from '../errors.js';
import { NODE, NS, UnsafeXmlError, attr, childElements, parseXmlSafely } from '../saml/xml.js';
import { normalizeCertificatePem } from './certificates.js';
import { idpUrlSchema } from './model.js';

export const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';

/** The largest metadata document accepted, in UTF-8 bytes (1 MiB). */
export const MAX_IDP_METADATA_BYTES = 1024 * 1024;

/** As `samlSettingsSchema` allows: the result must be storable as it is. */
const MAX_CERTIFICATES = 5;
const MAX_ENTITY_ID_CHARS = 1024;

const BINDINGS = [
  ['HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'],
  ['HTTP-POST', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'],
] as const;

const FIELD = 'saml.metadataXml';

export interface IdpMetadata {
  idpEntityId: string;
  /** Absent when the IdP offers neither HTTP-Redirect nor HTTP-POST SSO. */
  ssoUrl?: string;
  /** Canonical PEM, in document order, without duplicates; at least one. */
  certificates: string[];
  /** The IdP's SingleLogoutService with the HTTP-Redirect binding; absent when it has none. */
  sloUrl?: string;
}

const invalid = (problem: string): AppError => new AppError('VALIDATION_FAILED', `${FIELD}: ${problem}`);

/**
 * Parses SAML 2.0 IdP metadata: an `EntityDescriptor`, or an `EntitiesDescriptor`
 * holding exactly one EntityDescriptor with an IDPSSODescriptor.
 *
 * - `idpEntityId`: the entityID.
 * - `ssoUrl`: the IDPSSODescriptor's SingleSignOnService with the HTTP-Redirect binding,
 *   else HTTP-POST; https only (http on loopback hosts), as `idpUrlSchema` requires.
 * - `sloUrl`: the IDPSSODescriptor's SingleLogoutService with the HTTP-Redirect binding
 *   (the one binding our LogoutRequests and LogoutResponses use), same URL rules.
 * - `certificates`: every `ds:X509Certificate` of the IDPSSODescriptor's KeyDescriptors
 *   with `use="signing"` or no `use`, normalised by {@link normalizeCertificatePem}.
 *
 * Refuses DOCTYPE/ENTITY declarations, processing instructions and CDATA (comments are
 * allowed: Shibboleth's metadata has them) and documents over {@link MAX_IDP_METADATA_BYTES}.
 *
 * @throws AppError VALIDATION_FAILED `"saml.metadataXml: …"` saying what is missing or wrong.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_IDP_METADATA_BYTES) {
    throw invalid(`is ${bytes} bytes, larger than the ${MAX_IDP_METADATA_BYTES / 1024 / 1024} MiB allowed; paste only your identity provider's EntityDescriptor`);
  }
  // Files saved by Windows tools (Entra ID's federationmetadata.xml) start with a BOM.
  const text = xml.replace(/^\uFEFF/, '').trim();
  if (text.length === 0) throw invalid('is empty; paste the identity provider\'s SAML metadata XML');
  if (/^https?:\/\//i.test(text)) throw invalid('is a URL, not the metadata itself; open the URL and paste the XML document it returns');
  if (!text.startsWith('<')) throw invalid('is not XML; paste the identity provider\'s SAML metadata (it starts with <EntityDescriptor or <?xml)');

  let root: Element;
  try {
    root = childElements(parseXmlSafely(text, { allowComments: true }))[0]!;
  } catch (error) {
    if (!(error instanceof UnsafeXmlError)) throw error;
    if (error.parserMessage !== undefined) throw invalid(`${error.reason} (${error.parserMessage})`);
    throw invalid(`is refused: it ${error.reason}`);
  }

  const entity = pickIdpEntity(root);
  const idpEntityId = attr(entity, 'entityID');
  if (idpEntityId === undefined || idpEntityId.trim() === '') throw invalid('the EntityDescriptor has no entityID attribute');
  if (idpEntityId.length > MAX_ENTITY_ID_CHARS) throw invalid(`the entityID is longer than ${MAX_ENTITY_ID_CHARS} characters`);

  const descriptor = pickIdpDescriptor(entity);
  const ssoUrl = singleSignOnUrl(descriptor);
  const certificates = signingCertificates(descriptor);
  const sloUrl = serviceUrl(descriptor, 'SingleLogoutService', [BINDINGS[0]]);
  return { idpEntityId, ...(ssoUrl === undefined ? {} : { ssoUrl }), certificates, ...(sloUrl === undefined ? {} : { sloUrl }) };
}

/** The root EntityDescriptor, or the one EntityDescriptor with an IDPSSODescriptor under an EntitiesDescriptor. */
function pickIdpEntity(root: Element): Element {
  const isMd = (local: string) => root.namespaceURI === MD_NS && root.localName === local;
  if (!isMd('EntityDescriptor') && !isMd('EntitiesDescriptor')) {
    const name = root.localName ?? '?';
    const problem =
      name === 'EntityDescriptor' || name === 'EntitiesDescriptor'
        ? `its root element ${name} is not in the SAML 2.0 metadata namespace (${MD_NS})`
        : `its root element is ${name}${root.namespaceURI ? ` in ${root.namespaceURI}` : ''}, not a SAML 2.0 EntityDescriptor or EntitiesDescriptor`;
    throw invalid(`${problem}; paste the identity provider's SAML 2.0 metadata`);
  }
  if (isMd('EntityDescriptor')) {
    if (idpDescriptors(root).length === 0) throw noIdpDescriptor(root);
    return root;
  }

  const entities = entityDescriptors(root);
  const idps = entities.filter((entity) => idpDescriptors(entity).length > 0);
  if (idps.length === 1) return idps[0]!;
  if (idps.length === 0) {
    throw entities.length === 0 ? invalid('the EntitiesDescriptor contains no EntityDescriptor') : noIdpDescriptor(entities[0]!, entities.length);
  }
  const shown = idps.slice(0, 3).map((entity) => `"${attr(entity, 'entityID') ?? '(no entityID)'}"`);
  const more = idps.length > shown.length ? ` and ${idps.length - shown.length} more` : '';
  throw invalid(
    `the EntitiesDescriptor describes ${idps.length} identity providers (${shown.join(', ')}${more}); paste only the EntityDescriptor of the one to use`,
  );
}

/** EntityDescriptors under an EntitiesDescriptor, nested groups included (federation aggregates nest them). */
function entityDescriptors(group: Element): Element[] {
  const found: Element[] = [];
  const pending = [group];
  while (pending.length > 0) {
    const current = pending.pop()!;
    found.push(...childElements(current, MD_NS, 'EntityDescriptor'));
    pending.push(...childElements(current, MD_NS, 'EntitiesDescriptor'));
  }
  return found;
}

const idpDescriptors = (entity: Element): Element[] => childElements(entity, MD_NS, 'IDPSSODescriptor');

function noIdpDescriptor(entity: Element, entityCount = 1): AppError {
  const isSp = childElements(entity, MD_NS, 'SPSSODescriptor').length > 0;
  const missing = entityCount > 1 ? `none of its ${entityCount} EntityDescriptors has an IDPSSODescriptor` : 'it has no IDPSSODescriptor';
  const sp = isSp ? ' (it describes a service provider: SPSSODescriptor)' : '';
  return invalid(`${missing}, so it is not identity provider metadata${sp}; paste the metadata your identity provider publishes for this application`);
}

function pickIdpDescriptor(entity: Element): Element {
  const saml2 = idpDescriptors(entity).filter((descriptor) =>
    (attr(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol),
  );
  if (saml2.length === 0) throw invalid(`its IDPSSODescriptor does not support SAML 2.0 (protocolSupportEnumeration lacks ${NS.protocol})`);
  if (saml2.length > 1) throw invalid(`its EntityDescriptor has ${saml2.length} SAML 2.0 IDPSSODescriptors; keep only one`);
  return saml2[0]!;
}

function singleSignOnUrl(descriptor: Element): string | undefined {
  return serviceUrl(descriptor, 'SingleSignOnService', BINDINGS);
}

/** The Location of the first service of that kind with one of `bindings` (in their order of preference). */
function serviceUrl(descriptor: Element, kind: 'SingleSignOnService' | 'SingleLogoutService', bindings: readonly (readonly [string, string])[]): string | undefined {
  const services = childElements(descriptor, MD_NS, kind);
  for (const [name, binding] of bindings) {
    const service = services.find((candidate) => attr(candidate, 'Binding') === binding);
    if (service === undefined) continue;
    const location = attr(service, 'Location')?.trim();
    if (location === undefined || location === '') throw invalid(`the ${name} ${kind} has no Location`);
    const checked = idpUrlSchema.safeParse(location);
    if (!checked.success) throw invalid(`the ${name} ${kind} Location "${location}" ${checked.error.issues[0]?.message ?? 'is not a valid URL'}`);
    return location;
  }
  return undefined;
}

function signingCertificates(descriptor: Element): string[] {
  const keyDescriptors = childElements(descriptor, MD_NS, 'KeyDescriptor');
  const signing = keyDescriptors.filter((keyDescriptor) => {
    const use = attr(keyDescriptor, 'use');
    return use === undefined || use === 'signing';
  });

  const certificates: string[] = [];
  signing.forEach((keyDescriptor, index) => {
    for (const keyInfo of childElements(keyDescriptor, NS.dsig, 'KeyInfo')) {
      for (const data of childElements(keyInfo, NS.dsig, 'X509Data')) {
        for (const element of childElements(data, NS.dsig, 'X509Certificate')) {
          const pem = normalizeCertificatePem(textOf(element), `${FIELD} (signing KeyDescriptor ${index + 1} of the IDPSSODescriptor)`);
          if (!certificates.includes(pem)) certificates.push(pem);
        }
      }
    }
  });

  if (certificates.length === 0) {
    const onlyOthers = keyDescriptors.length > 0 && signing.length === 0 ? ' (it has only KeyDescriptors with use="encryption")' : '';
    throw invalid(
      `the IDPSSODescriptor has no signing certificate: no KeyDescriptor with use="signing" or without use holds a ds:X509Certificate${onlyOthers}`,
    );
  }
  if (certificates.length > MAX_CERTIFICATES) {
    throw invalid(`the IDPSSODescriptor has ${certificates.length} different signing certificates; at most ${MAX_CERTIFICATES} are supported`);
  }
  return certificates;
}

/** Text content, ignoring comments between the lines of base64. */
function textOf(element: Element): string {
  let text = '';
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === NODE.text) text += child.nodeValue ?? '';
  }
  return text;
}
