// Reports the tool definitions this server serves to the authorization server (issue 14 §1: "the kit, where
// present, reports the definitions it actually serves"), with the resource's own client; drift is found there.

/** Where and as whom to report, and what (each tool as tools/list describes it, with `_meta` scopes). */
export interface ReportToolsOptions {
  /** The authorization server's issuer; the report goes to `{issuer}/resource/tools` unless `endpoint` is set. */
  issuer: string;
  endpoint?: string;
  clientId: string;
  clientSecret: string;
  tools: readonly unknown[];
  httpTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** What the authorization server answered: how many tools it keeps, and which drifted from their pins. */
export interface ReportedTools { tools: number; drifted: string[] }

/** POSTs the tools; throws an Error naming the HTTP status when the authorization server refuses. */
export async function reportTools(options: ReportToolsOptions): Promise<ReportedTools> {
  const endpoint = options.endpoint ?? `${options.issuer.replace(/\/+$/, '')}/resource/tools`;
  const response = await (options.fetch ?? fetch)(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', accept: 'application/json',
      authorization: `Basic ${btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`)}`,
    },
    body: JSON.stringify({ tools: options.tools }),
    signal: AbortSignal.timeout(options.httpTimeoutMs ?? 5000),
  });
  if (response.status !== 200) throw new Error(`the authorization server refused the tool report (HTTP ${response.status})`);
  const body = await response.json() as { tools?: unknown; drifted?: unknown };
  return { tools: Number(body.tools ?? 0), drifted: Array.isArray(body.drifted) ? body.drifted.filter((d): d is string => typeof d === 'string') : [] };
}
