/**
 * What the local-only development pages (the SAML IdP, the OpenID Provider's login)
 * share: reading a posted form and answering with an HTML page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}
