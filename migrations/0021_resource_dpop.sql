-- 0021: a resource can demand sender-constrained tokens (DPoP, RFC 9449). 'required': the token endpoint
-- issues tokens for it only to a request with a DPoP proof (src/oidc/dpop-required.ts), so every token is
-- bound to the client's key (cnf.jkt); 'allowed' (every existing row): bearer or DPoP, as the client asks.
-- Forward-only: never edit this file once landed.

ALTER TABLE resources ADD COLUMN dpop text NOT NULL DEFAULT 'allowed' CHECK (dpop IN ('allowed', 'required'));
