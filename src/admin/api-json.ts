// The admin API's wire shapes of users and the overview: snake_case names, ISO dates, null for "none", as in
// the CLI's --json. Clients and resources have theirs in src/clients/json.ts and src/resources/json.ts.
import type { AccountActivity } from './account-store.ts';
import type { loadOverview } from './overview.ts';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

export const userJson = (user: AccountActivity) => ({
  id: user.id, email: user.email, is_admin: user.isAdmin, status: user.disabled ? 'disabled' : 'active',
  created_at: iso(user.createdAt), last_sign_in_at: iso(user.lastSignInAt), grants: user.grants,
});

export const overviewJson = (overview: Awaited<ReturnType<typeof loadOverview>>) => ({
  metrics: Object.fromEntries(overview.metrics.map((metric) => [metric.key, {
    label: metric.label, last_24_hours: metric.last24h.total, last_30_days: metric.last30d.total,
    hourly: metric.hourly, daily: metric.daily,
  }])),
  resources_needing_attention: overview.resources.map((entry) => ({ uri: entry.item.uri, name: entry.item.name, reasons: entry.reasons })),
  clients_needing_attention: overview.clients.map((entry) => ({ client_id: entry.item.clientId, client_name: entry.item.name ?? null, reasons: entry.reasons })),
});
