// A client that goes away in the middle of its body (Content-Length promises more than it sends) is a
// client error: the server records a 400 for it, writes no "unhandled error" line, and goes on serving.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogDestination, setLogLevel } from '../../src/log.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

let app: TestApp;
let captured = '';

beforeAll(async () => {
  setLogLevel('info');
  setLogDestination(new Writable({ write(chunk, _encoding, done) { captured += String(chunk); done(); } }));
  app = await createTestApp();
});

afterAll(async () => {
  await app.close();
  setLogDestination(undefined);
  setLogLevel('warn');
});

const accessLines = () => captured.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
  .filter((line) => line.msg === 'request' && line.path === '/token');

describe('a body cut short by the client', () => {
  it('is recorded as a 400, with no error line, and the next request is served', async () => {
    const { port } = app.server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /token HTTP/1.1\r\nHost: localhost:4000\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
          'Content-Length: 200\r\n\r\ngrant_type=refresh_token&refresh_token=');
        // Let the server start reading the body, then leave without the rest.
        setTimeout(() => { socket.destroy(); resolve(); }, 100);
      });
      socket.on('error', reject);
    });
    await expect.poll(accessLines, { timeout: 5000 }).toHaveLength(1);
    expect(accessLines()[0]!.status).toBe(400);
    expect(captured).not.toContain('unhandled error');

    const next = await app.http().post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' });
    expect(next.status).toBe(401);
    expect(next.body.error).toBe('invalid_client');
  });
});
