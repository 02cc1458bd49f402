// The setup most metadata-document tests share: a local https document server, and a test app allowed
// to fetch from it (CIMD_DEV_ENV) with one registered resource and one person who can sign in.
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { CIMD_DEV_ENV, startDocumentServer, type DocumentServer } from './document-server.ts';

export interface CimdTestApp {
  app: TestApp;
  docs: DocumentServer;
  email: string;
}

export async function startCimdTestApp(resourceUri: string): Promise<CimdTestApp> {
  const docs = await startDocumentServer();
  const app = await createTestApp(CIMD_DEV_ENV);
  await app.addResource(notesResource(resourceUri));
  return { app, docs, email: (await app.addUser()).email };
}

/** Closes what started; either may be missing when the setup itself failed. */
export async function stopCimdTestApp({ app, docs }: Partial<CimdTestApp>): Promise<void> {
  await app?.close();
  await docs?.close();
}
