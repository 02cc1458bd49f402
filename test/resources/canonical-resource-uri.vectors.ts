// The one table of canonical-resource-URI cases (MCP §Canonical Server URI, RFC 8707 §2), run against the
// server's rule and the kit's, so an audience the server registers is one the kit serves, and vice versa.

/** An input and its canonical form. */
export const canonicalVectors: ReadonlyArray<readonly [input: string, canonical: string]> = [
  ['https://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
  ['HTTPS://MCP.Example.COM/mcp', 'https://mcp.example.com/mcp'],
  // The path keeps its case: only scheme and host are case-insensitive (RFC 3986 §6.2.2.1).
  ['https://mcp.example.com/MCP', 'https://mcp.example.com/MCP'],
  ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp'],
  ['https://mcp.example.com/mcp//', 'https://mcp.example.com/mcp'],
  ['https://mcp.example.com', 'https://mcp.example.com'],
  ['https://mcp.example.com/', 'https://mcp.example.com'],
  ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
  ['https://mcp.example.com:8443/mcp', 'https://mcp.example.com:8443/mcp'],
  ['http://localhost:3000/mcp', 'http://localhost:3000/mcp'],
  ['http://127.0.0.1:80/mcp', 'http://127.0.0.1/mcp'],
  ['https://mcp.example.com/a/../mcp', 'https://mcp.example.com/mcp'],
  ['https://mcp.example.com/tools/notes', 'https://mcp.example.com/tools/notes'],
];

/** An input no rule accepts, and the words of the refusal every caller shows. */
export const refusedVectors: ReadonlyArray<readonly [input: string, problem: string]> = [
  ['', 'resource must be an absolute URI'],
  ['/mcp', 'resource must be an absolute URI'],
  ['mcp.example.com/mcp', 'resource must be an absolute URI'],
  ['ftp://files.example.com', 'resource must be an http or https URI'],
  ['urn:example:mcp', 'resource must be an http or https URI'],
  ['https://mcp.example.com/mcp#section', 'resource must not contain a fragment'],
  ['https://mcp.example.com/mcp#', 'resource must not contain a fragment'],
  // RFC 8707 §2 says SHOULD NOT; both sides refuse, so the server never registers what the kit won't serve.
  ['https://mcp.example.com/mcp?tenant=a', 'resource must not contain a query'],
  ['https://mcp.example.com/mcp?', 'resource must not contain a query'],
  ['https://user:secret@mcp.example.com/mcp', 'resource must not contain credentials'],
  ['https://user@mcp.example.com/mcp', 'resource must not contain credentials'],
];
