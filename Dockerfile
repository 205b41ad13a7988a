# syntax=docker/dockerfile:1
# One definition for every Callflow service: `docker build --build-arg SERVICE=<name> -t callflow/<name> .`
# with <name> one of ingest, transcription, aggregator, merge, summary, reaper, outbound-dialer.
# The image runs what the service's `start:built` runs (MALLOC_ARENA_MAX=2 node dist/main.mjs, from
# services/<name>), the esbuild bundle of scripts/build-service.mjs, under tini as an unprivileged user.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG SERVICE=ingest

# ── build: the whole workspace installed, the Prisma client generated, the service bundled ──────────
FROM ${NODE_IMAGE} AS build
ARG SERVICE
ENV PNPM_HOME=/pnpm CI=true TURBO_TELEMETRY_DISABLED=1
ENV PATH=$PNPM_HOME:$PATH
RUN npm install -g --silent pnpm@10.34.8
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile --reporter=silent \
 && pnpm --filter @callflow/db run generate \
 && pnpm --filter "@callflow/${SERVICE}" run build
# Only the service's production dependencies stay: the bundle keeps its own npm dependencies external,
# and @callflow/db is found at run time through the service's node_modules (migrations, Prisma CLI).
RUN rm -rf node_modules packages/*/node_modules services/*/node_modules bench/node_modules deploy/node_modules \
 && pnpm install --frozen-lockfile --prod --filter "@callflow/${SERVICE}..." --reporter=silent \
 && rm -rf bench deploy \
 && find services -mindepth 1 -maxdepth 1 ! -name "${SERVICE}" -exec rm -rf {} + \
 && rm -rf charts k8s docs proto scripts "services/${SERVICE}/src" "services/${SERVICE}/test"

# ── runtime: node, tini, an unprivileged user; then only the Debian tools each service needs ───────
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 callflow \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin callflow
ENV NODE_ENV=production HOME=/tmp

FROM runtime AS tools-ingest
# ffprobe checks every upload; ffmpeg and sox trim and convert.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg sox && rm -rf /var/lib/apt/lists/*

FROM runtime AS tools-transcription
# ffmpeg/ffprobe split and probe chunks; pocketsphinx is the local speech provider.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg pocketsphinx pocketsphinx-en-us && rm -rf /var/lib/apt/lists/*

FROM runtime AS tools-merge
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg sox && rm -rf /var/lib/apt/lists/*

FROM runtime AS tools-outbound-dialer
# ffprobe checks each fetched recording. The simulated carrier (the default provider) records its
# calls with festival and sox; with
# CALLFLOW_TELEPHONY_PROVIDER=twilio they go unused.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg festival festvox-us-slt-hts sox && rm -rf /var/lib/apt/lists/*

FROM runtime AS tools-aggregator
FROM runtime AS tools-summary
FROM runtime AS tools-reaper

# ── the image: the chosen service's tools, its bundle and production dependencies ────────────────────
FROM tools-${SERVICE} AS service
ARG SERVICE
COPY --from=build --chown=root:root /app /app
WORKDIR /app/services/${SERVICE}
# What `start:built` sets before node (services/<name>/package.json).
ENV MALLOC_ARENA_MAX=2
USER 10001:10001
# tini is PID 1: it forwards SIGTERM to node, whose handler drains the consumers, and reaps ffmpeg's children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.mjs"]
