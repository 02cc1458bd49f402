// `npm run example:downstream`: the example calendar API on http://localhost:$API_PORT/api, trusting
// Portcullis at $ISSUER; the notes MCP server calls it with exchanged tokens (README, Token exchange).
import { z } from 'zod';
import { startDownstreamApi } from './server.ts';

const env = z.object({
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  ISSUER: z.url().default('http://localhost:4000'),
}).safeParse(process.env);
if (!env.success) {
  console.error(`downstream example: ${env.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`).join('; ')}`);
  process.exit(2);
}
const api = await startDownstreamApi({ port: env.data.API_PORT, issuer: env.data.ISSUER });
console.log(`Calendar API on ${api.url} (GET ${api.url}/events with a calendar:read token for this audience)`);
const stop = () => void api.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
