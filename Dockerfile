# syntax=docker/dockerfile:1
# One image for every schedmesh service; the command picks the service:
#   docker build -t schedmesh:dev .
#   docker run schedmesh:dev scheduler        (or informer, snapshot, ...)
# The deploy/ manifests run `node services/<svc>/dist/main.js` in /app.
ARG NODE_IMAGE=node:20-slim

# Build: every workspace's dependencies (dev included), then tsc -b.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY libs/ libs/
COPY services/ services/
COPY examples/ examples/
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npm run build
# The application tree with production dependencies only.
COPY deploy/image/ deploy/image/
RUN sh deploy/image/layout.sh /src /app \
 && cd /app \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: node, the built code and its production dependencies; no npm
# cache, no sources, no compiler. Non-root (the manifests' uid 10001) and
# nothing written outside /tmp, so a read-only root file system works.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=0:0 /app /app
USER 10001:10001
ENTRYPOINT ["/app/entrypoint.sh"]
CMD []
