// What every bench server is seeded with: one resource with two scopes, one account's password.

export const BENCH_RESOURCE = {
  uri: 'https://mcp.example.com/mcp',
  name: 'Bench MCP',
  scopes: [
    { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
    { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  ],
};
export const BENCH_SCOPE = 'notes:read notes:write';
export const BENCH_EMAIL = 'bench@example.com';
export const BENCH_PASSWORD = 'correct horse battery staple';
