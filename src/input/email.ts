// The one normaliser for email addresses: account lookup, the unique index (accounts.email_key) and the
// sign-in throttle's email bucket all use it, so every spelling of one address is one account and one bucket.

/**
 * The comparable form of an email address: Unicode NFKC (fullwidth `ＡＬＩＣＥ` is `ALICE`, UAX #15), then
 * trimmed, then lowercased by Unicode's default case mapping (locale-independent, unlike the database's
 * lower(), which depends on its collation). Done in one place so the database never decides.
 */
export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}
