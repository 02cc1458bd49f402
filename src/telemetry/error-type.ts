// The `error.type` attribute of a failed span: a code, never a message (messages can quote the input,
// and PostgreSQL's quote the values of a refused row).

/** A PostgreSQL SQLSTATE or system code (57014, ECONNREFUSED), an OAuth error code, or the error's class name. */
export function errorType(error: unknown): string {
  const { code, error: oauthError, name } = (error ?? {}) as { code?: unknown; error?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  if (typeof oauthError === 'string' && /^[a-z_]{1,60}$/.test(oauthError)) return oauthError;
  return typeof name === 'string' && /^\w{1,60}$/.test(name) ? name : 'Error';
}
