# syntax=docker/dockerfile:1
# The Sentinel hub image. Built by docker-compose.yml (`docker compose build hub`) or alone:
#   docker build -t sentinel-hub .

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script downloads CUDA libraries; the CPU backend ships in the package.
# Scarf's install script phones home; npm 10 (in this image) ignores package.json's allowScripts.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    SCARF_ANALYTICS=false

# Manifests first, so the dependency layer is reused until a manifest or the lock file changes.
COPY package.json package-lock.json .npmrc ./
COPY broker/package.json broker/
COPY edge-agent/package.json edge-agent/
RUN npm ci --no-audit --no-fund

COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8070 \
    MQTT_PORT=1883 \
    MQTT_WS_PORT=8083 \
    DATA_DIR=/var/lib/sentinel
WORKDIR /app
# node_modules/@sentinel/* are workspace symlinks into broker/ and edge-agent/, so those stay
# beside it with their package.json (and the broker's compiled dist/).
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/broker/package.json ./broker/
COPY --from=build /app/broker/dist ./broker/dist
COPY --from=build /app/edge-agent/package.json ./edge-agent/
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/sentinel && chown node:node /var/lib/sentinel

USER node
EXPOSE 8070 1883 8083
# The hub binds IPv4 (HOST=0.0.0.0), hence 127.0.0.1 rather than localhost, which may be ::1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
