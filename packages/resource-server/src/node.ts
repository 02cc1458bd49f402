// Adapter for node `http` and express-style servers: `(req, res, next)` middleware that serves the
// metadata and guards the MCP endpoint, putting the verified token on `req.auth` (where both MCP SDKs look).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenInfo } from './access-token-info.ts';
import type { ChallengeResponse } from './challenge.ts';
import { ensureJsonBody } from './read-json-body.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import type { ToolPins } from './tool-pins.ts';
import type { ObservedToolCall, ToolCallRecorder } from './tool-calls.ts';
import { checkToolScopes, pinRefusalOf } from './tool-call-gates.ts';

/** A node request as the adapters leave it: `auth` once the token is accepted, `body` once read. */
export type NodeRequest = IncomingMessage & { auth?: AccessTokenInfo; body?: unknown };
/** A verified token as the pin gate reads it: the kit's `AccessTokenInfo` or the MCP SDK v1's `AuthInfo`. */
type VerifiedToken = NonNullable<ObservedToolCall['auth']>;
/** What `nodeBearerAuth` calls when the request may go on (express's `next` fits). */
export type NodeNext = () => void;

function send(res: ServerResponse, answer: { status: number; headers: Record<string, string>; body: string | undefined }) {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** Writes a `challenge` answer (status, WWW-Authenticate, JSON body) on a node `ServerResponse`. */
export const sendChallenge = (res: ServerResponse, challenge: ChallengeResponse) =>
  send(res, { ...challenge, body: challenge.body && JSON.stringify(challenge.body) });

/**
 * Serves the protected resource metadata at its paths and returns true; otherwise calls `next` (if
 * given) and returns false, so it works both as express middleware and as a plain `if` in a handler.
 */
export function nodeProtectedResourceMetadata(server: ResourceServer) {
  return (req: IncomingMessage, res: ServerResponse, next?: NodeNext): boolean => {
    const answer = server.metadataResponse(req.method ?? 'GET', req.url ?? '/');
    if (!answer) {
      next?.();
      return false;
    }
    send(res, answer);
    return true;
  };
}

/**
 * Requires a valid bearer token: on success sets `req.auth` and calls `next`; on failure answers the
 * challenge and never calls `next`. With `toolScopes` and no body parser before it, it reads the JSON
 * body itself (after the token checked out) and leaves it on `req.body`: pass it on, as with
 * express.json(): `transport.handleRequest(req, res, req.body)`.
 */
export function nodeBearerAuth(server: ResourceServer, options: ProtectOptions = {}) {
  const { toolScopes, ...tokenOptions } = options;
  return async (req: NodeRequest, res: ServerResponse, next: NodeNext): Promise<void> => {
    let auth: AccessTokenInfo;
    try {
      auth = await server.authenticate({ authorization: req.headers.authorization, url: req.url, body: req.body, method: req.method, dpop: req.headers.dpop }, tokenOptions);
      if (toolScopes && req.method === 'POST') {
        if (!(await ensureJsonBody(req, res))) return;
        checkToolScopes(toolScopes, auth, req.body, options.toolCalls);
      }
    } catch (error) {
      sendChallenge(res, server.challenge(error, options));
      return;
    }
    req.auth = auth;
    next();
  };
}

/**
 * After `nodeBearerAuth` (or anything that put the verified token on `req.auth`, such as `mcpSdkV1BearerAuth`):
 * answers the `tools/call`s the approved catalog does not cover with JSON-RPC errors (HTTP 200) and returns
 * true; returns false when the request may go on. It takes the JSON-RPC body from `req.body`, reading it there
 * itself when no body parser ran, so pass `req.body` on to the transport:
 *
 *   await auth(req, res, async () => { if (!(await pinGate(req, res))) await transport.handleRequest(req, res, req.body); });
 *
 * Put it after the bearer gate: without `req.auth` it still refuses what the pins refuse (fail closed), as a caller
 * with no client, but records nothing (a record names its client).
 */
export function nodeToolPinGate(pins: ToolPins, options: { toolCalls?: ToolCallRecorder } = {}) {
  return async (req: IncomingMessage & { auth?: VerifiedToken; body?: unknown }, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'POST') return false;
    // A body left unread would look like no tools/call at all, and pass.
    if (!(await ensureJsonBody(req, res))) return true;
    const refusal = await pinRefusalOf(pins, req.body, req.auth, options.toolCalls);
    if (refusal === undefined) return false;
    send(res, { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(refusal) });
    return true;
  };
}
