# syntax=docker/dockerfile:1
# The API Clients service as a container image: one stage compiles the TypeScript sources, one
# installs the production dependencies, the last holds only those, the compiled JavaScript and
# the console's static files.
#
#   docker build -t api-clients-service .
#   docker run --rm -p 3000:3000 -e KEYCLOAK_URL=http://keycloak:8080 \
#     -e KEYCLOAK_CLIENT_SECRET=... api-clients-service
#
# Node 24 LTS on Alpine, pinned by tag; override with --build-arg NODE_IMAGE=... (e.g. a digest).
ARG NODE_IMAGE=node:24-alpine3.23

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compiled to plain JavaScript: no TypeScript loader at run time (about 30 MB less RSS).
RUN npx tsc -p tsconfig.build.json
# The reference console (/console): static files in dist/console, built with Vite over the typed client
COPY console ./console
COPY clients/typescript/src ./clients/typescript/src
RUN npx vite build --config console/vite.config.ts

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: no tsx, esbuild, TypeScript, vitest or testcontainers in the image.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root and only readable by the service's user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER node
# 3000: the API; 9464: /metrics (METRICS_PORT), for the scraper on the internal network only
EXPOSE 3000 9464
# node as PID 1 gets SIGTERM from `docker stop`; the server finishes in-flight requests on it
# (up to 10 s, so give `docker stop` / the orchestrator a grace period above that).
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# the flags of `npm start` (package.json; a test keeps the two the same)
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
