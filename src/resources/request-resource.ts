// A registered resource as the request being served already read it (the authorization prefetch loads the
// request's resource with its session: src/oidc/authorization-prefetch.ts), else read from the database now.
// Read fresh each request either way: what the consent page offers is never older than the page.
import type { Queryable } from '../db/db.ts';
import { requestCache } from '../request/adapter-cache.ts';
import type { Resource } from './schema.ts';
import { findResourceByUri } from './store.ts';

export async function findResourceForRequest(db: Queryable, canonicalUri: string): Promise<Resource | undefined> {
  return (requestCache.getResource(canonicalUri) as Resource | undefined) ?? findResourceByUri(db, canonicalUri);
}
