# Portcullis production image: TypeScript compiled in a build stage, production dependencies installed in
# their own stage, and a runtime stage with only those, the built JavaScript, migrations, views and CSS.
# test/main/production-image.test.ts runs this file's runtime stage as written (its COPY lines, ENV, CMD
# and HEALTHCHECK), so keep every instruction on one line and every path explicit.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/resource-server/package.json packages/resource-server/
# No install scripts: neither the compiler nor any dependency needs one to build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY packages/resource-server/tsconfig.build.json packages/resource-server/
COPY packages/resource-server/src packages/resource-server/src
COPY src src
RUN npm run build

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/resource-server/package.json packages/resource-server/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim
# PORT and DATA_DIR as the server reads them; HOST stays unset: every interface, which a container needs.
ENV NODE_ENV=production PORT=4000 DATA_DIR=/data
WORKDIR /app
# package.json says "type": "module"; the kit's package.json maps @portcullis/resource-server to its dist.
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY packages/resource-server/package.json packages/resource-server/
COPY --from=build /app/packages/resource-server/dist packages/resource-server/dist
COPY --from=build /app/dist dist
COPY migrations migrations
COPY views views
COPY public public
# The embedded database and generated secrets; the server keeps it 0700. Unused for the database with
# DATABASE_URL, but still where secrets.json is generated unless COOKIE_KEYS and KEY_ENCRYPTION_SECRET are set.
RUN mkdir -m 700 /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself as PID 1, not npm: SIGTERM reaches the server, which drains requests and closes the database.
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
