/**
 * A small authoritative DNS server on loopback (dns2, UDP) for domain verification
 * tests: TXT records set by the test, NXDOMAIN for any other name, and names that answer
 * SERVFAIL (a DNS server in trouble). The service reaches it as `DNS_RESOLVER=host:port`.
 */
import dns2 from 'dns2';

const { Packet } = dns2;

export interface TestDnsServer {
  /** `127.0.0.1:port`, for DNS_RESOLVER. */
  address: string;
  /** Sets the TXT values of a name (an empty list: the name exists without TXT records). */
  setTxt(name: string, values: string[]): void;
  /** Removes a name: NXDOMAIN from then on. */
  remove(name: string): void;
  /** Makes a name answer SERVFAIL. */
  fail(name: string): void;
  close(): Promise<void>;
}

export async function startTestDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, string[] | 'servfail'>();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const entry = question ? records.get(question.name.toLowerCase()) : undefined;
      if (!question || entry === undefined) {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
      } else if (entry === 'servfail') {
        response.header.rcode = Packet.RCODE.SERVFAIL;
      } else if (question.type === Packet.TYPE.TXT) {
        for (const value of entry) response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: value } as unknown as (typeof response.answers)[number]);
      }
      send(response);
    },
  });
  const listening = new Promise<void>((resolve) => server.once('listening', () => resolve()));
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  await listening;
  const { port } = (server.addresses() as { udp: { port: number } }).udp;
  return {
    address: `127.0.0.1:${port}`,
    setTxt: (name, values) => records.set(name.toLowerCase(), values),
    remove: (name) => records.delete(name.toLowerCase()),
    fail: (name) => records.set(name.toLowerCase(), 'servfail'),
    close: () => server.close(),
  };
}
