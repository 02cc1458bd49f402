// The node `http` / express-style adapter against the shared adapter contract, on a bare node server.
import { createServer } from 'node:http';
import { nodeBearerAuth, nodeProtectedResourceMetadata, type NodeRequest } from '@portcullis/resource-server/node';
import { describeAdapterContract, toolScopes } from './adapter-contract.ts';

describeAdapterContract('node', async (kit) => {
  const metadata = nodeProtectedResourceMetadata(kit);
  const guardMcp = nodeBearerAuth(kit, { toolScopes });
  const guardAdmin = nodeBearerAuth(kit, { requiredScopes: ['notes:admin'] });
  const server = createServer((req: NodeRequest, res) => {
    if (metadata(req, res)) return;
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ auth: req.auth, body: req.body }));
    };
    if (req.url?.startsWith('/mcp')) return void guardMcp(req, res, answer);
    if (req.url?.startsWith('/admin')) return void guardAdmin(req, res, answer);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
});
