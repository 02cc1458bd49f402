-- 0018: accounts are found by email_key, the normalised email (src/accounts/email.ts: NFKC, trim, Unicode
-- lowercase), not by the database's lower(), whose case mapping depends on the collation and differed
-- from the sign-in throttle's. Forward-only: never edit this file once landed.

ALTER TABLE accounts ADD COLUMN email_key text;

-- ASCII addresses (nearly all) normalise to their ASCII lowercase here, whatever the collation; the
-- server fills in the rest at start with the same function it looks up with (backfillEmailKeys).
UPDATE accounts SET email_key = translate(btrim(email), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email ~ '^[ -~]*$';

DROP INDEX accounts_email_key;
CREATE UNIQUE INDEX accounts_email_key_unique ON accounts (email_key);
