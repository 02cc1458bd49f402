// The example notes MCP server under load, in a process of its own: protected by the kit (BENCH_MCP_AUTH
// = kit, trusting a stand-in issuer) or with no auth at all (= none), the baseline the kit is measured against.
import { startNotesServer } from '../examples/notes-mcp-server/server.ts';
import { serveCommands } from './child-process.ts';
import { startFakeIssuer } from './fake-issuer.ts';

const mode = process.env.BENCH_MCP_AUTH;
if (mode !== 'kit' && mode !== 'none') throw new Error(`BENCH_MCP_AUTH must be kit or none, got ${mode}`);

const issuer = await startFakeIssuer();
const notes = await startNotesServer({ port: 0, issuer: issuer.issuer, unprotected: mode === 'none' });
const token = await issuer.sign(notes.url, 'notes:read');

serveCommands({ port: notes.port, token }, {
  cpu: () => process.cpuUsage(),
}, async () => {
  await notes.close();
  await issuer.close();
});
