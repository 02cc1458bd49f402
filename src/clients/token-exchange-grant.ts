// The RFC 8693 grant type's name, here so the clients folder can give it to introspection clients
// without importing src/exchange (which imports accounts, which imports clients back through cimd).
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
