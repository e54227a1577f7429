/**
 * Namespaces and small DOM helpers for reading SAML documents parsed with @xmldom/xmldom.
 * Every lookup is by namespace AND local name: a prefix proves nothing.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xenc11: 'http://www.w3.org/2009/xmlenc11#',
} as const;

export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const BEARER_METHOD = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export const NODE = {
  element: 1,
  attribute: 2,
  text: 3,
  cdata: 4,
  entityReference: 5,
  entity: 6,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentType: 10,
  notation: 12,
} as const;

export const isElement = (node: Node | null | undefined): node is Element => node?.nodeType === NODE.element;

/** The element children of `parent`, optionally only those with this namespace and local name. */
export function childElements(parent: Element | Document, ns?: string, localName?: string): Element[] {
  const found: Element[] = [];
  for (let child = parent.firstChild; child !== null; child = child.nextSibling) {
    if (!isElement(child)) continue;
    if (ns !== undefined && child.namespaceURI !== ns) continue;
    if (localName !== undefined && child.localName !== localName) continue;
    found.push(child);
  }
  return found;
}

export const firstChildElement = (parent: Element, ns: string, localName: string): Element | undefined =>
  childElements(parent, ns, localName)[0];

/** Every node under `root` (root included), in document order, without recursion. */
export function* descendants(root: Node): Generator<Node> {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    const children: Node[] = [];
    for (let child = node.firstChild; child !== null; child = child.nextSibling) children.push(child);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

export function descendantElements(root: Node): Element[] {
  const elements: Element[] = [];
  for (const node of descendants(root)) if (isElement(node)) elements.push(node);
  return elements;
}

/** An attribute without a namespace, or undefined when absent (xmldom answers '' or null). */
export function attr(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? (element.getAttribute(name) ?? undefined) : undefined;
}

/** The text of an element that must hold text only (no child elements). */
export function textOnly(element: Element): string | undefined {
  let text = '';
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType !== NODE.text) return undefined;
    text += child.nodeValue ?? '';
  }
  return text;
}

/** A readable path such as /Response/Extensions/Assertion, for admin-facing details. */
export function elementPath(element: Element): string {
  const names: string[] = [];
  for (let node: Node | null = element; isElement(node); node = node.parentNode) names.unshift(node.localName ?? '?');
  return `/${names.join('/')}`;
}

/** Text or attribute value escaped for XML. */
export const escapeXml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The base64 body of a PEM certificate, without armour or whitespace (as `<ds:X509Certificate>` carries it). */
export const certificateBody = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

/**
 * Why {@link parseXmlSafely} refused a document. `reason` is a short phrase in admin
 * terms ("contains a DOCTYPE declaration"); callers wrap it in their own error code.
 */
export class UnsafeXmlError extends Error {
  readonly reason: string;
  /** The parser's own report (first 200 characters), for "not well-formed" only. */
  readonly parserMessage: string | undefined;

  constructor(reason: string, parserMessage?: string) {
    super(reason);
    this.name = 'UnsafeXmlError';
    this.reason = reason;
    this.parserMessage = parserMessage;
  }
}

export interface SafeXmlOptions {
  /**
   * Accept XML comments (ignored by readers). Default false: signed SAML messages refuse
   * them; unsigned configuration documents such as IdP metadata may carry them.
   */
  allowComments?: boolean;
  /** Refuse elements nested deeper than this many levels (bounds what later walks cost). */
  maxDepth?: number;
}

const LEADING_XML_DECLARATION = /^<\?xml[ \t\r\n][^<>]*\?>/;

/**
 * Parses a document that needs none of XML's riskier features and refuses any that has
 * them: DOCTYPE and ENTITY declarations (entity expansion, external entities), processing
 * instructions other than the leading XML declaration, CDATA sections, comments (unless
 * allowed), and more or fewer than one root element. Checked both on the text and on the
 * parsed DOM. Any parser warning or error refuses the document.
 *
 * Throws {@link UnsafeXmlError}; the caller maps it to its own error code.
 *
 * @example
 * try { doc = parseXmlSafely(xml, { allowComments: true }); }
 * catch (e) { if (e instanceof UnsafeXmlError) throw new AppError('VALIDATION_FAILED', `field: ${e.reason}`); throw e; }
 */
export function parseXmlSafely(xml: string, options: SafeXmlOptions = {}): Document {
  if (/<!DOCTYPE/i.test(xml)) throw new UnsafeXmlError('contains a DOCTYPE declaration');
  if (/<!ENTITY/i.test(xml)) throw new UnsafeXmlError('contains an ENTITY declaration');
  if (xml.replace(LEADING_XML_DECLARATION, '').includes('<?')) throw new UnsafeXmlError('contains an XML processing instruction');
  if (!options.allowComments && xml.includes('<!--')) throw new UnsafeXmlError('contains an XML comment');
  if (xml.includes('<![CDATA[')) throw new UnsafeXmlError('contains a CDATA section');

  // xmldom wraps whatever onError throws; keep the first report and stop at any level.
  let problem: string | undefined;
  const parser = new DOMParser({
    // No line/column bookkeeping per node: about a tenth of the parse, and nothing reads it.
    locator: false,
    onError: (level, message) => {
      problem ??= `${level}: ${String(message)}`;
      throw new Error(problem);
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(xml, 'text/xml');
  } catch (error) {
    const parserMessage = problem ?? (error instanceof Error ? error.message : String(error));
    throw new UnsafeXmlError('is not well-formed XML', parserMessage.slice(0, 200));
  }

  const depth = new Map<unknown, number>([[doc, 0]]);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  for (const node of descendants(doc)) {
    const level = (node.parentNode ? (depth.get(node.parentNode) ?? 0) : 0) + 1;
    if (level > maxDepth) throw new UnsafeXmlError(`has its elements nested too deeply (at most ${maxDepth} levels)`);
    depth.set(node, level);
    switch (node.nodeType) {
      case NODE.element:
      case NODE.text:
      case NODE.document:
        break;
      case NODE.comment:
        if (!options.allowComments) throw new UnsafeXmlError('contains an XML comment');
        break;
      case NODE.processingInstruction:
        // xmldom reports the XML declaration as one; the text check allowed only a leading one.
        if (node.nodeName === 'xml' && node.parentNode === doc && node === doc.firstChild) break;
        throw new UnsafeXmlError('contains an XML processing instruction');
      case NODE.cdata:
        throw new UnsafeXmlError('contains a CDATA section');
      case NODE.documentType:
      case NODE.entity:
      case NODE.entityReference:
      case NODE.notation:
        throw new UnsafeXmlError('contains a DOCTYPE or ENTITY declaration');
      default:
        throw new UnsafeXmlError('contains an unexpected XML node');
    }
  }
  if (childElements(doc).length !== 1) throw new UnsafeXmlError('does not have exactly one root element');
  return doc;
}
