import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, KeyObject } from 'node:crypto';
import { NotifyClient } from 'notifications-node-client';
import { signWithKeyObject } from './notify.sender';

const SERVICE_ID = 'c2676a2c-397a-41a9-8f39-bbd7ece41446';
const SECRET = '4cc1f426-3f6e-4508-a07f-1dbc6bb6566d';
const API_KEY = `unit_test-${SERVICE_ID}-${SECRET}`;

/** A server that answers every request with 201 and keeps the Authorization headers it saw. */
async function tokenCatcher(): Promise<{ server: Server; url: string; tokens: string[] }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    tokens.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x' })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens };
}

/** The token's claims when its HS256 signature is the secret's, else undefined. */
function verifiedClaims(token: string, secret: string): { iss: string; iat: number } | undefined {
  const [header, payload, signature] = token.split('.');
  if (JSON.parse(Buffer.from(header!, 'base64url').toString()).alg !== 'HS256') return undefined;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return expected === signature ? JSON.parse(Buffer.from(payload!, 'base64url').toString()) : undefined;
}

describe('signWithKeyObject', () => {
  it('keeps the official client signing tokens Notify accepts: HS256 with the key secret, iss the service id, iat now', async () => {
    const { server, url, tokens } = await tokenCatcher();
    try {
      const client = new NotifyClient(url, API_KEY);
      signWithKeyObject(client);
      expect((client as unknown as { apiClient: { apiKeyId: unknown } }).apiClient.apiKeyId).toBeInstanceOf(KeyObject);
      await client.sendSms('9c2ff95d-744a-4742-9a00-a2ad5a079da0', '07700900001', { personalisation: { body: 'x' } });
      expect(tokens).toHaveLength(1);
      const claims = verifiedClaims(tokens[0]!, SECRET);
      expect(claims?.iss).toBe(SERVICE_ID);
      expect(Math.abs(claims!.iat - Date.now() / 1000)).toBeLessThan(30);
      expect(verifiedClaims(tokens[0]!, 'another-secret')).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('leaves a client alone that keeps no secret where it looks', () => {
    const other = { apiClient: { apiKeyId: 42 } } as unknown as NotifyClient;
    signWithKeyObject(other);
    expect((other as unknown as { apiClient: { apiKeyId: unknown } }).apiClient.apiKeyId).toBe(42);
  });
});
