// Test helpers for the example MCP server: raw JSON-RPC over Streamable HTTP (as an MCP client sends
// it), and a fetch that routes the test issuer (http://localhost:4000) to an in-process Portcullis.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { authorizeQuery, decide, exchangeCode, follow, pkcePair, signIn } from '../helpers/oauth-flow.ts';
import { ISSUER, type TestApp } from '../helpers/test-app.ts';

export const PROTOCOL_VERSION = '2025-06-18';

/** The kit's fetch: requests for the issuer's origin go to `server` instead (same path and query). */
export function fetchRoutingIssuerTo(server: Server): typeof fetch {
  const port = (server.address() as AddressInfo).port;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin === ISSUER) url.host = `127.0.0.1:${port}`;
    return fetch(url, init);
  };
}

/**
 * An access token for `scope` at `resource`, with every requested scope ticked on the consent page (the
 * page leaves write scopes unticked by default; a person who wants them ticks them).
 */
export async function approvedAccessToken(app: TestApp, options: { email: string; clientId: string; resource: string; scope: string }) {
  const browser = app.browser();
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId: options.clientId, resource: options.resource, scope: options.scope, state: 's',
    codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  const interactionPath = () => new URL(page.request.url).pathname;
  if (page.text.includes('name="password"')) page = await signIn(browser, interactionPath(), options.email);
  if (page.text.includes('name="decision"')) page = await decide(browser, interactionPath(), 'approve', options.scope.split(' '));
  expect(page.status, page.text).toBe(303);
  const code = new URL(page.headers.location as string).searchParams.get('code') ?? '';
  const response = await exchangeCode(app, { code, code_verifier: pkce.verifier, client_id: options.clientId, resource: options.resource });
  expect(response.status, response.text).toBe(200);
  expect(response.body.scope).toBe(options.scope);
  return response.body.access_token as string;
}

export interface RpcAnswer {
  status: number;
  headers: Headers;
  /** The JSON-RPC response, from a JSON body or the first SSE `data:` event; undefined when none. */
  message: { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined;
  text: string;
}

/** POSTs one JSON-RPC message to `url` with a bearer token, reading a JSON or SSE answer. */
export async function rpc(url: string, token: string | undefined, message: unknown, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': PROTOCOL_VERSION,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(message),
  });
  const text = await response.text();
  const data = response.headers.get('content-type')?.startsWith('text/event-stream')
    ? text.split('\n').find((line) => line.startsWith('data: '))?.slice('data: '.length)
    : text;
  let parsed: RpcAnswer['message'];
  try {
    parsed = data ? JSON.parse(data) as RpcAnswer['message'] : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, message: parsed, text };
}

export const initialize = (url: string, token: string) => rpc(url, token, {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'portcullis-test', version: '1.0.0' } },
});

let nextId = 10;
export const callTool = (url: string, token: string, name: string, args: Record<string, unknown> = {}) =>
  rpc(url, token, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } });

/** The text of a tool result's first content block. */
export const toolText = (answer: RpcAnswer) =>
  ((answer.message?.result?.content as { text?: string }[] | undefined)?.[0]?.text) ?? '';
