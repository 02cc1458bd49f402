// Adapter for node `http` and express-style servers: `(req, res, next)` middleware that serves the
// metadata and guards the MCP endpoint, putting the verified token on `req.auth` (where both MCP SDKs look).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenInfo } from './access-token-info.ts';
import type { ChallengeResponse } from './challenge.ts';
import { readJsonBody } from './read-json-body.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import { toolCallerOf, toolPinRefusal, type ToolPins } from './tool-pins.ts';
import { checkToolScopes, recordPinRefusals, type ToolCallRecorder } from './tool-calls.ts';

/** A node request as the adapters leave it: `auth` once the token is accepted, `body` once read. */
export type NodeRequest = IncomingMessage & { auth?: AccessTokenInfo; body?: unknown };
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
        if (req.body === undefined) {
          const body = await readJsonBody(req);
          if (!body.ok) {
            send(res, { status: body.status, headers: { 'Content-Type': 'application/json' }, body: body.body });
            return;
          }
          req.body = body.value;
        }
        // Checked here, not by the core (the body may be read only now); refusals recorded as the core records them.
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
 * After `nodeBearerAuth` (with `toolScopes`, so `req.body` is read): answers the `tools/call`s the approved
 * catalog does not cover with JSON-RPC errors and returns true; returns false when the request may go on.
 *
 *   await auth(req, res, async () => { if (!(await pinGate(req, res))) await transport.handleRequest(req, res, req.body); });
 */
export function nodeToolPinGate(pins: ToolPins, options: { toolCalls?: ToolCallRecorder } = {}) {
  return async (req: NodeRequest, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'POST' || !req.auth) return false;
    const auth = req.auth;
    const refusal = await toolPinRefusal(pins, req.body, auth.clientId, options.toolCalls && ((refused) => recordPinRefusals(options.toolCalls!, auth, req.body, refused)), toolCallerOf(auth));
    if (refusal === undefined) return false;
    send(res, { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(refusal) });
    return true;
  };
}
