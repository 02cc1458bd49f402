// A client's diagnosis in the console (Clients → Diagnose) and the admin API: its recent failed requests,
// each with its usual cause and fix, from src/diagnostics/service.ts. Unknown client: 404 client_not_found.
import { clientDiagnosisJson, diagnoseClient } from '../diagnostics/service.ts';
import { describeRequestFacts } from '../diagnostics/request-words.ts';
import { renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRoutes } from './route-contract.ts';

export function registerClientDiagnostics({ page, api }: AdminRoutes, { db }: AdminDeps): void {
  // A GET with the id in the query, like the resource editor: a diagnosis is a link an operator can pass on.
  page('get', '/clients/diagnose', async (ctx, admin) => {
    const id = typeof ctx.query.id === 'string' ? ctx.query.id : '';
    const diagnosis = await diagnoseClient(db, { clientId: id });
    await renderConsolePage(ctx, admin, 'client-diagnostics', 'clients', { diagnosis, describeRequestFacts });
  });
  api('get', '/clients/:id/diagnostics', async (ctx) => {
    ctx.body = clientDiagnosisJson(await diagnoseClient(db, { clientId: ctx.params.id }));
  });
}
