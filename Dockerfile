# Build stage: compile TypeScript and the native addon, then keep production dependencies only.
FROM node:24-bookworm-slim AS build
# node-gyp needs these to compile better-sqlite3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# No audit, funding or update lookups: they add registry round trips and nothing to the image.
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 is compiled against this image's Node headers instead of fetching a prebuilt
# binary from outside the registry; bufferutil loads the linux-x64 prebuild it ships.
RUN npm_config_build_from_source=better-sqlite3 npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# The chat page and the SDK bundle (served with WEB_CLIENT=true), built by the same npm run build.
COPY scripts/build-web.mjs ./scripts/
COPY client ./client
COPY public ./public
RUN npm run build \
 && npm prune --omit=dev
# What the runtime never reads, about 75 MB: better-sqlite3's SQLite sources, object files and
# test extension (it loads build/Release/better_sqlite3.node only); TypeScript, which prune keeps
# as an optional peer of @nestjs/swagger although only that package's compile-time plugin uses
# it; and the type declarations and source maps that packages ship.
RUN cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . \
 && rm -rf build deps src binding.gyp \
 && mkdir -p build/Release \
 && mv better_sqlite3.node build/Release/ \
 && cd /app/node_modules \
 && rm -rf typescript @typescript .bin/tsc .bin/tsserver \
 && find . -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# Runtime stage: the compiled gateway and its production dependencies, owned by root so that the
# unprivileged process can write nowhere but /data.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    SQLITE_PATH=/data/offline.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/public/build ./public/build
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
