// Why a Client ID Metadata Document could not be used, as a stable code (for tests, logs and audit)
// and a sentence a person can read on the error page. Turned into OAuth `invalid_client` in resolver.ts.

export const METADATA_DOCUMENT_ERROR_CODES = [
  'not_https', 'domain_not_allowed', 'forbidden_address', 'unreachable', 'timeout', 'redirect',
  'bad_status', 'not_json', 'too_large', 'invalid_document',
] as const;

export type MetadataDocumentErrorCode = typeof METADATA_DOCUMENT_ERROR_CODES[number];

export const isMetadataDocumentErrorCode = (code: string): code is MetadataDocumentErrorCode =>
  (METADATA_DOCUMENT_ERROR_CODES as readonly string[]).includes(code);

export class MetadataDocumentError extends Error {
  override name = 'MetadataDocumentError';
  readonly code: MetadataDocumentErrorCode;

  constructor(code: MetadataDocumentErrorCode, reason: string) {
    super(reason);
    this.code = code;
  }
}
