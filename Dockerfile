# One image for the four services and the console (the entry point differs), built in CI for the cluster (k8s/).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Patches of dependencies (patch-package, run by the postinstall script; docs/adr/0022).
COPY patches ./patches
RUN npm install --no-audit --no-fund
COPY . .
RUN node tools/build.mjs && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The console's page templates and script (services/console: read from the sources, not compiled).
COPY --from=build /app/services/console/views ./services/console/views
COPY --from=build /app/services/console/public ./services/console/public
COPY package.json ./
USER node
