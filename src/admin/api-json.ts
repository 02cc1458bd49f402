// The admin API's wire shape of the overview: snake_case names, ISO dates, null for "none", as in the CLI's
// --json. Accounts, clients and resources have theirs beside their services (src/accounts/service.ts,
// src/clients/json.ts, src/resources/json.ts).
import type { loadOverview } from './overview.ts';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

export const overviewJson = (overview: Awaited<ReturnType<typeof loadOverview>>) => ({
  metrics: Object.fromEntries(overview.metrics.map((metric) => [metric.key, {
    label: metric.label, last_24_hours: metric.last24h.total, last_30_days: metric.last30d.total,
    hourly: metric.hourly, daily: metric.daily,
  }])),
  resources_needing_attention: overview.resources.map((entry) => ({ uri: entry.item.uri, name: entry.item.name, reasons: entry.reasons })),
  clients_needing_attention: overview.clients.map((entry) => ({ client_id: entry.item.clientId, client_name: entry.item.name ?? null, reasons: entry.reasons })),
});
