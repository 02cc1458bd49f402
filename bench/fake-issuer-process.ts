// The stand-in authorization server in a process of its own, for the tool-call recording pair: in production
// Portcullis receives the kit's records elsewhere, so what it spends taking them must not count as the kit's.
import { serveCommands } from './child-process.ts';
import { startFakeIssuer } from './fake-issuer.ts';

const issuer = await startFakeIssuer();

serveCommands({ issuer: issuer.issuer }, {
  cpu: () => process.cpuUsage(),
  sign: ({ audience, scope }: { audience: string; scope: string }) => issuer.sign(audience, scope),
  // What reached it: the records delivered, and the drop count the kit reported.
  delivered: () => issuer.toolCalls(),
}, () => issuer.close());
