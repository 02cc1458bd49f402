// The two checks every adapter runs on a parsed JSON-RPC body once the token checked out, each reporting its
// refusals to the tool-call recorder: per-tool scopes (insufficient_scope) and the pins (by pin or by budget).
// One implementation, so node, koa, express (SDK v1) and the SDK v2 gate refuse and record alike.
import type { AccessTokenInfo } from './access-token-info.ts';
import { ResourceServerError } from './errors.ts';
import { missingScopes } from './scopes.ts';
import { INVENTORY_CLIENT_ID } from './tool-digest.ts';
import { calledTools, type ToolScopes } from './tool-scopes.ts';
import { toolCallerOf, toolPinRefusal, type ToolPins } from './tool-pins.ts';
import { recordPinRefusals, recordRefusedCalls, type ObservedToolCall, type ToolCallRecorder } from './tool-calls.ts';

/**
 * `toolScopes.check`, recording the calls it refuses as `insufficient_scope` when a recorder is given; rethrows
 * the refusal for the adapter's challenge. The authorization server's inventory token (issue 14 §1) may list
 * tools, never call one: refused here whatever the scopes, so a server that checks scopes without the pin gate
 * (or no per-tool scopes at all) refuses it too.
 */
export function checkToolScopes(toolScopes: ToolScopes | undefined, info: AccessTokenInfo, body: unknown, toolCalls?: ToolCallRecorder): void {
  try {
    if (info.clientId === INVENTORY_CLIENT_ID && calledTools(body).length > 0) {
      throw new ResourceServerError('insufficient_scope', 'the authorization server\'s inventory token may list tools, never call them');
    }
    toolScopes?.check(info, body);
  } catch (error) {
    if (toolCalls && error instanceof ResourceServerError && error.code === 'insufficient_scope') {
      const short = toolScopes ? calledTools(body).filter((tool) => missingScopes(info.scopes, toolScopes.requiredFor(tool)).length > 0) : [];
      // None short of a scope it holds: a single-use scope already spent, or the inventory token, refused them all.
      recordRefusedCalls(toolCalls, info, body, 'insufficient_scope', short.length > 0 ? short : undefined);
    }
    throw error;
  }
}

/**
 * The JSON-RPC answer (to send with HTTP 200) refusing the `tools/call`s of `body` the pins do not allow, the
 * refusals recorded; undefined when every call may run. `auth` is the verified token (`AuthInfo` shape); without
 * one (a gate mounted with no bearer gate before it) the pins still judge the calls, as of no client, so the gate
 * fails closed, and nothing is recorded (a record names its client).
 */
export function pinRefusalOf(pins: ToolPins, body: unknown, auth: NonNullable<ObservedToolCall['auth']> | undefined, toolCalls?: ToolCallRecorder): Promise<unknown> {
  const record = auth && toolCalls && ((refused: Parameters<typeof recordPinRefusals>[3]) => recordPinRefusals(toolCalls, auth, body, refused));
  return toolPinRefusal(pins, body, auth?.clientId ?? '', record, toolCallerOf(auth));
}
