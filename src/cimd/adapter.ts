// Serves URL client_ids from their metadata documents through oidc-provider's storage adapter, the
// documented place where clients are looked up: oidc-provider then treats them as ordinary clients.
import Provider, { errors, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { requestCache } from '../request/adapter-cache.ts';
import { currentRequestContext } from '../request/scope.ts';
import { requestState } from '../request/state.ts';
import { MetadataDocumentError } from './errors.ts';
import { isMetadataDocumentClientId, type MetadataDocumentResolver } from './resolver.ts';

type AdapterClass = new (model: string) => Adapter;

function describeFailure(clientId: string, error: MetadataDocumentError): Error {
  return new errors.InvalidClient(`The client's metadata document (${clientId}) cannot be used: ${error.message}.`);
}

/**
 * oidc-provider asks the adapter for a Client before trying its own (experimental, per-process)
 * metadata-document support, which therefore stays off: every https client_id is answered here.
 */
export function withMetadataDocumentClients(Base: AdapterClass, resolver: MetadataDocumentResolver): AdapterClass {
  return class MetadataDocumentAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#model !== 'Client' || !isMetadataDocumentClientId(id)) return (await super.find(id)) ?? undefined;
      const ctx = (Provider.ctx as KoaContextWithOIDC | undefined) ?? currentRequestContext();
      const remembered = requestCache.get('Client', id);
      if (remembered) return remembered;
      // A failed resolution is remembered for the rest of the request: oidc-provider's error handler looks
      // the client up again after a failed authorization, and that must not fetch (and wait) a second time.
      const failed = ctx ? requestState(ctx).metadataDocumentFailures.get(id) : undefined;
      if (failed) throw failed;
      // On a token request the base lookup loads the code or refresh token, its grant and account in
      // one query (token-prefetch.ts); the client part of that answer is empty for a URL client_id.
      if ((ctx as KoaContextWithOIDC | undefined)?.oidc?.route === 'token') await super.find(id);
      try {
        const metadata = await resolver.resolve(id);
        requestCache.set('Client', id, metadata);
        return metadata;
      } catch (error) {
        if (!(error instanceof MetadataDocumentError)) throw error;
        const failure = describeFailure(id, error);
        if (ctx) requestState(ctx).metadataDocumentFailures.set(id, failure);
        throw failure;
      }
    }
  };
}
