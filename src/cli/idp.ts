// `idp add|list|show|test|update|remove`: the identity providers people may sign in with (issue 12).
// Parses options, calls src/federation/service.ts (validation, secret sealing, audit), renders; never prints the secret.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { loadSecrets } from '../secrets.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { checkIdentityProvider } from '../federation/check.ts';
import {
  addIdentityProvider, callbackUrl, listIdentityProviders, providerJson, removeIdentityProvider, showIdentityProvider,
  updateIdentityProvider, type FederationDeps,
} from '../federation/service.ts';
import type { IdentityProvider } from '../federation/store.ts';
import type { ParsedArgs } from './args.ts';
import { UsageError } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

const deps = (config: Config, db: Db): FederationDeps => ({ db, keyEncryptionSecret: loadSecrets(config).keyEncryptionSecret, issuer: config.issuer });

const SETTING_OPTIONS = {
  name: { type: 'string' }, 'display-name': { type: 'string' }, issuer: { type: 'string' }, preset: { type: 'string' },
  tenant: { type: 'string' }, 'client-id': { type: 'string' }, 'client-secret': { type: 'string' },
  domain: { type: 'string', multiple: true }, scope: { type: 'string', multiple: true }, 'email-claim': { type: 'string' },
  'groups-claim': { type: 'string' }, 'sso-only': { type: 'boolean' }, 'no-create-accounts': { type: 'boolean' },
  'id-jag': { type: 'boolean' },
} as const;

const settings = (args: ParsedArgs) => ({
  displayName: args.string('display-name'), preset: args.string('preset'), issuer: args.string('issuer'),
  tenant: args.string('tenant'), clientId: args.string('client-id'), clientSecret: args.string('client-secret'),
  emailClaim: args.string('email-claim'), groupsClaim: args.string('groups-claim'),
});

function describe(p: IdentityProvider, issuer: string): string {
  return [
    `${p.name} (${p.displayName}): ${p.disabledAt ? 'disabled' : 'active'}, ${p.kind}${p.preset ? ` preset ${p.preset}` : ''}`,
    `  issuer:          ${p.issuer ?? '(none: GitHub)'}`,
    ...(p.tenant ? [`  tenant:          ${p.tenant}`] : []),
    `  client id:       ${p.clientId}`,
    '  client secret:   (stored encrypted; never shown)',
    `  scopes:          ${p.scopes.join(' ')}`,
    `  email claim:     ${p.emailClaim}${p.groupsClaim ? `; groups claim: ${p.groupsClaim}` : ''}`,
    `  domains:         ${p.domains.join(', ') || '(none)'}`,
    `  create accounts: ${p.createAccounts ? 'yes' : 'no'}; SSO only: ${p.ssoOnly ? 'yes' : 'no'}; ID-JAG trusted: ${p.idJag ? 'yes' : 'no'}`,
    `  callback URL:    ${callbackUrl(issuer)}  (register this redirect URI at the provider)`,
  ].join('\n');
}

const idpAdd: CommandSpec = {
  name: 'idp add',
  usage: '--name NAME (--issuer URL | --preset google|entra|okta|github) --client-id ID --client-secret SECRET [--tenant T] [--domain DOMAIN …] [--sso-only] [--no-create-accounts] [--groups-claim CLAIM] [--email-claim CLAIM] [--scope S …] [--display-name TEXT] [--id-jag]',
  summary: 'configure an identity provider people may sign in with (the secret is stored encrypted)',
  options: SETTING_OPTIONS,
  async run({ config, db }, args) {
    const scopes = args.strings('scope');
    const provider = await addIdentityProvider(deps(config, db), {
      name: args.required('name'), ...settings(args), clientId: args.required('client-id'), clientSecret: args.required('client-secret'),
      domains: args.strings('domain'), ...(scopes.length > 0 ? { scopes } : {}),
      createAccounts: !args.flag('no-create-accounts'), ssoOnly: args.flag('sso-only'), idJag: args.flag('id-jag'),
    }, CLI_OPERATOR);
    return { json: { identity_provider: providerJson(provider, config.issuer) }, text: `Added identity provider:\n${describe(provider, config.issuer)}` };
  },
};

const idpUpdate: CommandSpec = {
  name: 'idp update',
  usage: '--name NAME [any idp add option] [--create-accounts] [--no-sso-only] [--no-id-jag] [--enable | --disable [--end-sessions] [--end-grants]]',
  summary: 'change an identity provider; --domain replaces its domains, --disable stops sign-in with it (--end-sessions also signs its people out everywhere, --end-grants also ends every grant they gave)',
  options: {
    ...SETTING_OPTIONS, 'create-accounts': { type: 'boolean' }, 'no-sso-only': { type: 'boolean' }, 'no-id-jag': { type: 'boolean' },
    enable: { type: 'boolean' }, disable: { type: 'boolean' }, 'end-sessions': { type: 'boolean' }, 'end-grants': { type: 'boolean' },
  },
  async run({ config, db }, args) {
    const pair = (on: string, off: string): boolean | undefined => {
      if (args.flag(on) && args.flag(off)) throw new UsageError(`idp update: give --${on} or --${off}, not both`);
      return args.flag(on) ? true : args.flag(off) ? false : undefined;
    };
    const domains = args.strings('domain');
    const scopes = args.strings('scope');
    const provider = await updateIdentityProvider(deps(config, db), {
      name: args.required('name'), ...settings(args), ...(domains.length > 0 ? { domains } : {}), ...(scopes.length > 0 ? { scopes } : {}),
      createAccounts: pair('create-accounts', 'no-create-accounts'), ssoOnly: pair('sso-only', 'no-sso-only'),
      idJag: pair('id-jag', 'no-id-jag'), disabled: pair('disable', 'enable'),
      endSessions: args.flag('end-sessions') || undefined, endGrants: args.flag('end-grants') || undefined,
    }, CLI_OPERATOR);
    return { json: { identity_provider: providerJson(provider, config.issuer) }, text: `Updated identity provider:\n${describe(provider, config.issuer)}` };
  },
};

const idpList: CommandSpec = {
  name: 'idp list',
  usage: '',
  summary: 'list identity providers (never their secrets)',
  options: {},
  async run({ config, db }) {
    const providers = await listIdentityProviders(db);
    return {
      json: { identity_providers: providers.map((p) => providerJson(p, config.issuer)) },
      text: formatTable(
        ['NAME', 'KIND', 'ISSUER', 'DOMAINS', 'STATUS'],
        providers.map((p) => [p.name, p.preset ?? p.kind, p.issuer ?? '-', p.domains.join(',') || '-', p.disabledAt ? 'disabled' : 'active']),
        'No identity providers. Add one with: idp add --name NAME --preset google --client-id ID --client-secret SECRET',
      ),
    };
  },
};

const idpShow: CommandSpec = {
  name: 'idp show',
  usage: '--name NAME',
  summary: 'show one identity provider and the callback URL to register at it',
  options: { name: { type: 'string' } },
  async run({ config, db }, args) {
    const provider = await showIdentityProvider(db, args.required('name'));
    return { json: { identity_provider: providerJson(provider, config.issuer) }, text: describe(provider, config.issuer) };
  },
};

const idpTest: CommandSpec = {
  name: 'idp test',
  usage: '--name NAME',
  summary: "check the provider's discovery document (exact issuer) and key set; exit 1 when something is wrong",
  options: { name: { type: 'string' } },
  async run({ db }, args) {
    const provider = await showIdentityProvider(db, args.required('name'));
    const check = await checkIdentityProvider(provider);
    if (!check.ok) process.exitCode = 1;
    return {
      json: { name: provider.name, ok: check.ok, problems: check.problems, checked: check.checked },
      text: [
        ...check.checked.map((line) => `ok: ${line}`), ...check.problems.map((line) => `problem: ${line}`),
        check.ok ? `${provider.name} looks ready.` : `${provider.name} will not work until this is fixed.`,
      ].join('\n'),
    };
  },
};

const idpRemove: CommandSpec = {
  name: 'idp remove',
  usage: '--name NAME',
  summary: 'remove an identity provider, its domains and the accounts\' links to it (the accounts stay)',
  options: { name: { type: 'string' } },
  async run({ config, db }, args) {
    const provider = await removeIdentityProvider(deps(config, db), args.required('name'), CLI_OPERATOR);
    return { json: { removed: provider.name, id: provider.id }, text: `Removed identity provider ${provider.name}.` };
  },
};

export const idpCommands: CommandSpec[] = [idpAdd, idpList, idpShow, idpTest, idpUpdate, idpRemove];
