// A client cannot change what a person agreed to behind their back: after its metadata document
// changed its name or redirect URIs, the next authorization under an earlier grant asks again.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { isMetadataDocumentClientId } from './resolver.ts';
import { clearReconsentFlag, isGrantFlaggedForReconsent } from './store.ts';

const { Check } = interactionPolicy;
type Policy = ReturnType<typeof interactionPolicy.base>;

function metadataDocumentChangedCheck(db: Db) {
  return new Check(
    'client_metadata_document_changed',
    'the client changed its name or redirect URIs since consent was given',
    'consent_required',
    async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client;
      if (!client || !isMetadataDocumentClientId(client.clientId)) return false;
      // The person has just answered the consent page for this request: the grant is current again.
      const answered = ctx.oidc.result?.consent?.grantId;
      if (typeof answered === 'string') {
        await clearReconsentFlag(db, answered);
        return false;
      }
      const grantId = ctx.oidc.grant?.jti;
      return typeof grantId === 'string' && isGrantFlaggedForReconsent(db, grantId);
    },
  );
}

/** Adds the check to the consent prompt of an interaction policy. */
export function withMetadataDocumentReconsent(policy: Policy, db: Db): Policy {
  const consent = policy.get('consent');
  if (!consent) throw new Error('interaction policy has no consent prompt');
  consent.checks.add(metadataDocumentChangedCheck(db));
  return policy;
}
