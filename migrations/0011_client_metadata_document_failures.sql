-- 0011: Client ID Metadata Documents that could not be fetched or used, remembered briefly and shared
-- by every server process, so a broken or hostile client_id costs one fetch a minute, not one a request.
-- Forward-only: never edit this file once landed.

-- The last failure per URL client_id: its MetadataDocumentError code and the sentence shown to the
-- person. Until `retry_after` the same error is answered without a fetch; a successful fetch deletes
-- the row, and the purge deletes rows past `retry_after`.
CREATE TABLE client_metadata_document_failures (
  client_id   text PRIMARY KEY,
  error_code  text NOT NULL,
  message     text NOT NULL,
  failed_at   timestamptz NOT NULL DEFAULT now(),
  retry_after timestamptz NOT NULL
);
CREATE INDEX client_metadata_document_failures_retry_after ON client_metadata_document_failures (retry_after);
