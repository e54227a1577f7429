/**
 * Namespaces and small DOM helpers for reading SAML documents parsed with @xmldom/xmldom.
 * Every lookup is by namespace AND local name: a prefix proves nothing.
 */
import type { Document, Element, Node } from '@xmldom/xmldom';

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

/** The base64 body of a PEM certificate, without armour or whitespace, as samlify compares them. */
export const certificateBody = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
