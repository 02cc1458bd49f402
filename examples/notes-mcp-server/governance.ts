// Tool governance for the notes server (README "Tool governance"), with the resource's one credential (its
// introspection client): the approved catalog's pins and budgets enforced per call, every call recorded for Portcullis.
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { McpServer } from '@modelcontextprotocol/server';
import {
  createToolCallRecorder, createToolPins, type ToolCallRecorder, type ToolCallRecorderOptions, type ToolPins,
} from '@portcullis/resource-server';
import { nodeToolPinGate } from '@portcullis/resource-server/node';
import { recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';
import type { ToolWrapper } from './notes.ts';

/** The resource's credential at Portcullis (`client add --introspection --resource URI`), and how fresh to keep the catalog. */
export interface NotesGovernanceOptions {
  clientId: string;
  clientSecret: string;
  /** How long the approved catalog is reused, in seconds (kit default 10; 0: fetched for every call). */
  cacheSeconds?: number;
  /** The recorder's buffer and delivery (kit defaults: 1000 records, every 5 s). */
  recorder?: Pick<ToolCallRecorderOptions, 'maxBuffered' | 'batchSize' | 'flushIntervalMs' | 'onError'>;
  /** Drift allowed with a warning (a read tool; `--drift warn`). Default console.warn. */
  onWarning?: (message: string) => void;
}

export interface NotesGovernance {
  pins: ToolPins;
  recorder: ToolCallRecorder;
  /** After `nodeBearerAuth`: true when it answered (a refused tools/call). */
  pinGate: ReturnType<typeof nodeToolPinGate>;
  /** For `createNotesMcpServer`: each handler recorded, its result held to the operator's size cap. */
  wrapTool: ToolWrapper;
  close(): Promise<void>;
}

/**
 * What this server's tools/list answers, asked of one of its own MCP servers in memory: the very definitions
 * (JSON Schema from the zod inputs, annotations, `_meta` scopes) the pins compare with the approved digests.
 */
async function listToolsOf(server: McpServer): Promise<unknown[]> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'notes-served-tools', version: '1.0.0' });
  await server.connect(serverSide);
  try {
    await client.connect(clientSide);
    return (await client.listTools()).tools;
  } finally {
    await client.close();
    await server.close();
  }
}

export function createNotesGovernance(options: NotesGovernanceOptions & {
  issuer: string; resource: string; fetch?: typeof fetch | undefined;
  /** A server with the tools this process serves (the same for every person), listed once. */
  toolsServer: () => McpServer;
}): NotesGovernance {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  const credential = { issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret, ...fetchOption };
  let served: Promise<unknown[]> | undefined;
  const pins = createToolPins({
    ...credential,
    // The tools never change while the process runs; a failed listing is retried at the next call.
    servedTools: () => (served ??= listToolsOf(options.toolsServer()).catch((error: unknown) => { served = undefined; throw error; })),
    ...(options.cacheSeconds !== undefined ? { cacheSeconds: options.cacheSeconds } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  const recorder = createToolCallRecorder({ ...credential, resource: options.resource, ...options.recorder });
  return {
    pins, recorder,
    pinGate: nodeToolPinGate(pins, { toolCalls: recorder }),
    wrapTool: (tool, handler) => recordedTool(recorder, tool, handler, { pins }),
    close: () => recorder.close(),
  };
}
