// The console's overview: what happened in the last 24 hours and 30 days (from audit_events, as
// chart series), and the resources and clients an operator should look at.
import type { Db } from '../db/db.ts';
import { barChart, type BarChart } from './charts.ts';
import { listClientOverview, type ClientOverview } from '../clients/service.ts';
import { listResourceOverview, type ResourceOverview } from '../resources/service.ts';
import { openDriftByResource } from '../tools/service.ts';

/** The metrics charted, each counted from these audit event types. */
export const OVERVIEW_METRICS = [
  { key: 'tokens_issued', label: 'Tokens issued', types: ['token.issued'], alarming: false },
  { key: 'consents_granted', label: 'Consents granted', types: ['consent.granted'], alarming: false },
  { key: 'consents_denied', label: 'Consents denied', types: ['consent.denied'], alarming: false },
  { key: 'refresh_replays', label: 'Refresh token replays', types: ['refresh_token.replay_detected'], alarming: true },
  { key: 'failed_logins', label: 'Failed sign-ins', types: ['login.failed'], alarming: true },
] as const;

export interface MetricSeries {
  key: string;
  label: string;
  alarming: boolean;
  /** 24 hourly counts, oldest first; the last is the hour up to now. */
  hourly: number[];
  /** 30 daily counts (24-hour periods back from now), oldest first. */
  daily: number[];
}

export async function metricSeries(db: Db): Promise<MetricSeries[]> {
  const types = OVERVIEW_METRICS.flatMap((metric) => [...metric.types]);
  // Buckets count back from now (hour 0 = the last 60 minutes): no time zone decides where a day begins.
  const { rows } = await db.query<{ event_type: string; hours_ago: number; events: number }>(
    `SELECT event_type, floor(extract(epoch FROM now() - occurred_at) / 3600)::int AS hours_ago, count(*)::int AS events
     FROM audit_events
     WHERE event_type = ANY($1::text[]) AND occurred_at > now() - interval '30 days'
     GROUP BY 1, 2`,
    [types],
  );
  return OVERVIEW_METRICS.map((metric) => {
    const hourly = new Array<number>(24).fill(0);
    const daily = new Array<number>(30).fill(0);
    for (const row of rows) {
      if (!(metric.types as readonly string[]).includes(row.event_type)) continue;
      const hoursAgo = Math.max(0, row.hours_ago);
      if (hoursAgo < 24) hourly[23 - hoursAgo]! += row.events;
      const daysAgo = Math.floor(hoursAgo / 24);
      if (daysAgo < 30) daily[29 - daysAgo]! += row.events;
    }
    return { key: metric.key, label: metric.label, alarming: metric.alarming, hourly, daily };
  });
}

export interface ChartedMetric extends MetricSeries { last24h: BarChart; last30d: BarChart }

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

export function chartMetric(series: MetricSeries): ChartedMetric {
  const hourLabels = series.hourly.map((_, i) => (i === 23 ? 'the last hour' : `${plural(23 - i, 'hour')} to ${plural(24 - i, 'hour')} ago`));
  const dayLabels = series.daily.map((_, i) => (i === 29 ? 'the last 24 hours' : `${plural(29 - i, 'day')} to ${plural(30 - i, 'day')} ago`));
  return { ...series, last24h: barChart(series.hourly, hourLabels), last30d: barChart(series.daily, dayLabels) };
}

export interface Attention<T> { item: T; reasons: string[] }

/** Resources never used, or whose live metadata check failed or found mismatches; disabled ones are the operator's choice. */
export function resourcesNeedingAttention(resources: ResourceOverview[], drift: ReadonlyMap<string, number> = new Map()): Attention<ResourceOverview>[] {
  return resources.filter((resource) => !resource.disabled).map((resource) => {
    const reasons: string[] = [];
    // First: a tool that changed since it was approved may be a rug pull (issue 14).
    const drifted = drift.get(resource.uri) ?? 0;
    if (drifted > 0) reasons.push(`${plural(drifted, 'tool')} changed since approval (drift): review and approve on its Tools page`);
    if (!resource.lastUsedAt) reasons.push('no token has ever been issued for it');
    const check = resource.lastCheck;
    if (!check) reasons.push('its protected resource metadata has never been checked');
    else if (check.status === 'not_checked') reasons.push('its protected resource metadata could not be fetched at the last check');
    else if (check.warnings.length > 0) reasons.push(`the last metadata check found ${plural(check.warnings.length, 'problem')}`);
    return { item: resource, reasons };
  }).filter((entry) => entry.reasons.length > 0);
}

/** Clients with replayed refresh tokens or codes in 30 days, and active clients that never obtained a token. */
export function clientsNeedingAttention(clients: ClientOverview[]): Attention<ClientOverview>[] {
  return clients.map((client) => {
    const reasons: string[] = [];
    if (client.replaysLast30Days > 0) reasons.push(`${plural(client.replaysLast30Days, 'replayed credential')} in the last 30 days`);
    if (client.status === 'active' && !client.lastUsedAt) reasons.push('has never obtained a token');
    return { item: client, reasons };
  }).filter((entry) => entry.reasons.length > 0)
    // Replays first: they are the ones that may mean a stolen token.
    .sort((a, b) => b.item.replaysLast30Days - a.item.replaysLast30Days);
}

export async function loadOverview(db: Db) {
  const [series, resources, clients, drift] = await Promise.all([metricSeries(db), listResourceOverview(db), listClientOverview(db), openDriftByResource(db)]);
  return {
    metrics: series.map(chartMetric),
    resources: resourcesNeedingAttention(resources, drift),
    clients: clientsNeedingAttention(clients),
    totals: { resources: resources.length, clients: clients.length },
  };
}
