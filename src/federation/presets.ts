// The well-known providers: what each preset fills in (kind, issuer, scopes) and what it needs from the
// operator (Entra's tenant, Okta's own issuer). Everything else is plain OpenID Connect Discovery 1.0.
export const PRESETS = ['google', 'entra', 'okta', 'github'] as const;
export type Preset = (typeof PRESETS)[number];

// OIDC Core §5.4: `email` and `profile` ask for the claims sign-in needs; `openid` makes it OIDC.
export const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
// GitHub is OAuth 2.0 only: its user API needs read:user, the verified addresses user:email.
export const GITHUB_SCOPES = ['read:user', 'user:email'];
export const GITHUB_API_BASE = 'https://api.github.com';

export interface PresetInput { preset: Preset; issuer?: string | undefined; tenant?: string | undefined }
export type PresetOutcome =
  | { ok: true; kind: 'oidc' | 'github'; issuer: string | null; defaultScopes: string[] }
  | { ok: false; field: 'issuer' | 'tenant'; message: string };

const OKTA_ISSUER = /^https:\/\/[a-z0-9-]+\.(okta|oktapreview|okta-emea)\.com(\/oauth2\/[A-Za-z0-9]+)?$/;
// Entra tenants are a GUID or a verified domain; `common`/`organizations` have no single issuer to match.
const ENTRA_TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

export function applyPreset({ preset, issuer, tenant }: PresetInput): PresetOutcome {
  switch (preset) {
    case 'google':
      return { ok: true, kind: 'oidc', issuer: 'https://accounts.google.com', defaultScopes: DEFAULT_SCOPES };
    case 'entra':
      if (tenant === undefined) return { ok: false, field: 'tenant', message: 'the entra preset needs --tenant (your directory (tenant) ID or its domain)' };
      if (!ENTRA_TENANT.test(tenant)) return { ok: false, field: 'tenant', message: 'give the directory (tenant) ID (a GUID) or a verified domain; common and organizations have no single issuer' };
      return { ok: true, kind: 'oidc', issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, defaultScopes: DEFAULT_SCOPES };
    case 'okta':
      if (issuer === undefined || !OKTA_ISSUER.test(issuer)) {
        return { ok: false, field: 'issuer', message: 'the okta preset needs --issuer https://{org}.okta.com or https://{org}.okta.com/oauth2/default' };
      }
      return { ok: true, kind: 'oidc', issuer, defaultScopes: DEFAULT_SCOPES };
    case 'github':
      return { ok: true, kind: 'github', issuer: null, defaultScopes: GITHUB_SCOPES };
  }
}
