// `npm run example:mcp`: the notes MCP server on http://localhost:$MCP_PORT/mcp, trusting Portcullis
// at $ISSUER. Environment only; every variable has a default that matches the README's quickstart.
import { z } from 'zod';
import { startNotesServer } from './server.ts';

const env = z.object({
  MCP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  MCP_HOST: z.string().min(1).default('127.0.0.1'),
  ISSUER: z.url().default('http://localhost:4000'),
  // Set both to check opaque tokens by introspection (a resource registered with --token-format opaque,
  // and a client from `client add --name … --introspection --resource …`).
  MCP_INTROSPECTION_CLIENT_ID: z.string().min(1).optional(),
  // `required` for a resource registered with `resource add … --dpop required`: bearer tokens are refused.
  MCP_DPOP: z.enum(['allowed', 'required']).default('allowed'),
  MCP_INTROSPECTION_CLIENT_SECRET: z.string().min(1).optional(),
  // Set all three for the list_events tool: the downstream API's resource URI and this server's own client
  // (`client add --introspection --resource <this server>`), which exchanges tokens for it (RFC 8693).
  MCP_DOWNSTREAM_RESOURCE: z.url().optional(),
  MCP_DOWNSTREAM_CLIENT_ID: z.string().min(1).optional(),
  MCP_DOWNSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
  // Set both for tool governance: the resource's own client (`client add --introspection --resource <this
  // server>`, the same one the two pairs above may name). Unapproved or drifted write tools are then refused,
  // budgets apply and every tool call is recorded at Portcullis; unset, governance is off.
  MCP_RESOURCE_CLIENT_ID: z.string().min(1).optional(),
  MCP_RESOURCE_CLIENT_SECRET: z.string().min(1).optional(),
}).refine((e) => (e.MCP_INTROSPECTION_CLIENT_ID === undefined) === (e.MCP_INTROSPECTION_CLIENT_SECRET === undefined),
  'set both MCP_INTROSPECTION_CLIENT_ID and MCP_INTROSPECTION_CLIENT_SECRET, or neither')
  .refine((e) => new Set([e.MCP_DOWNSTREAM_RESOURCE, e.MCP_DOWNSTREAM_CLIENT_ID, e.MCP_DOWNSTREAM_CLIENT_SECRET].map((v) => v === undefined)).size === 1,
    'set MCP_DOWNSTREAM_RESOURCE, MCP_DOWNSTREAM_CLIENT_ID and MCP_DOWNSTREAM_CLIENT_SECRET together, or none')
  .refine((e) => (e.MCP_RESOURCE_CLIENT_ID === undefined) === (e.MCP_RESOURCE_CLIENT_SECRET === undefined),
    'set both MCP_RESOURCE_CLIENT_ID and MCP_RESOURCE_CLIENT_SECRET, or neither');

const parsed = env.safeParse(process.env);
if (!parsed.success) {
  console.error(`notes example: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`).join('; ')}`);
  process.exit(2);
}
const config = parsed.data;
const introspection = config.MCP_INTROSPECTION_CLIENT_ID && config.MCP_INTROSPECTION_CLIENT_SECRET
  ? { clientId: config.MCP_INTROSPECTION_CLIENT_ID, clientSecret: config.MCP_INTROSPECTION_CLIENT_SECRET }
  : undefined;
const downstream = config.MCP_DOWNSTREAM_RESOURCE && config.MCP_DOWNSTREAM_CLIENT_ID && config.MCP_DOWNSTREAM_CLIENT_SECRET
  ? { resource: config.MCP_DOWNSTREAM_RESOURCE, clientId: config.MCP_DOWNSTREAM_CLIENT_ID, clientSecret: config.MCP_DOWNSTREAM_CLIENT_SECRET }
  : undefined;
const governance = config.MCP_RESOURCE_CLIENT_ID && config.MCP_RESOURCE_CLIENT_SECRET
  ? { clientId: config.MCP_RESOURCE_CLIENT_ID, clientSecret: config.MCP_RESOURCE_CLIENT_SECRET }
  : undefined;

try {
  const server = await startNotesServer({
    port: config.MCP_PORT, host: config.MCP_HOST, issuer: config.ISSUER, introspection, dpop: config.MCP_DPOP,
    ...(downstream ? { downstream } : {}), ...(governance ? { governance } : {}),
  });
  console.log(`Notes MCP server on ${server.url} (tokens from ${config.ISSUER}, ${introspection ? 'checked by introspection' : 'JWTs verified locally'})`);
  console.log(`Protected resource metadata: ${server.resourceMetadataUrl}`);
  if (downstream) console.log(`list_events calls ${downstream.resource} with exchanged tokens`);
  console.log(governance
    ? `Tool governance on (client ${governance.clientId}): unapproved write tools refused, budgets applied, tool calls recorded at ${config.ISSUER}`
    : 'Tool governance off: tools are not pinned, budgeted or recorded (set MCP_RESOURCE_CLIENT_ID and MCP_RESOURCE_CLIENT_SECRET)');
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  const code = (error as { code?: string }).code;
  console.error(code === 'EADDRINUSE'
    ? `notes example: port ${config.MCP_PORT} is taken; set MCP_PORT to another port`
    : `notes example: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
