// `portcullis/resource-server`, as documented before the kit became its own package: the kit and all its
// adapters from one import. New code imports `@portcullis/resource-server` and its adapter subpaths.
export * from '@portcullis/resource-server';
export * from '@portcullis/resource-server/node';
export * from '@portcullis/resource-server/koa';
export * from '@portcullis/resource-server/mcp-sdk-v1';
export * from '@portcullis/resource-server/mcp-sdk-v2';
