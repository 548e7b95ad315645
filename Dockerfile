# syntax=docker/dockerfile:1
# The lineage ingestion service as an image. Docker does not run on the project's build machines: CI lints this
# file with hadolint; build it yourself with `docker build -t lineage .` (see README "Deploying").
#
# Three stages: build compiles TypeScript and the oclif manifest (fast start-up); deps installs the production
# dependencies only (better-sqlite3 compiles from source here, so the compilers stay out of the final image);
# the final stage is the Node runtime, a non-root user and the two.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Build tools for better-sqlite3; the base image's Debian release pins their versions.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build && npx oclif manifest

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# Build tools for better-sqlite3; the base image's Debian release pins their versions.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    LINEAGE_RAW_DIR=/data/raw \
    LINEAGE_OUT_DIR=/data/output \
    LINEAGE_STATE_DIR=/state/state \
    LINEAGE_CACHE_FILE=/state/cache/parse-cache.sqlite \
    LINEAGE_FAILED_FILE=/state/failed_ingestion.jsonl \
    LINEAGE_LOG_FILE=/state/logs/ingestion.log \
    METRICS_PORT=8000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/oclif.manifest.json ./
COPY package.json ./
COPY bin ./bin
COPY man ./man
# The service runs as an unprivileged user that owns only its three volumes.
RUN groupadd --system --gid 10001 lineage \
 && useradd --system --uid 10001 --gid lineage --home-dir /state --shell /usr/sbin/nologin lineage \
 && mkdir -p /data/raw /data/output /state \
 && chown -R lineage:lineage /data /state \
 && ln -s /app/bin/run.js /usr/local/bin/lineage
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
VOLUME ["/data/raw", "/data/output", "/state"]
EXPOSE 8000
# /healthz answers 200 while starting or ok, 503 when the service is unhealthy; node's fetch, no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["lineage"]
CMD ["watch"]
