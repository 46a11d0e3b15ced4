# syntax=docker/dockerfile:1
# The Sentinel hub image. Built by docker-compose.yml (`docker compose build hub`) or alone:
#   docker build -t sentinel-hub .

FROM node:24-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script downloads CUDA libraries; the CPU backend ships in the package.
# Scarf's install script phones home.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    SCARF_ANALYTICS=false

# Manifests first, so the dependency layer is reused until a manifest or the lock file changes.
COPY package.json package-lock.json .npmrc ./
COPY broker/package.json broker/
COPY edge-agent/package.json edge-agent/
COPY cli/package.json cli/
RUN npm ci --no-audit --no-fund

COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8070 \
    MQTT_PORT=1883 \
    MQTT_WS_PORT=8083 \
    DATA_DIR=/var/lib/sentinel
WORKDIR /app
# node_modules/@sentinel/* are workspace symlinks into broker/, edge-agent/ and cli/, so those stay
# beside it with their package.json (and the broker's compiled dist/).
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/broker/package.json ./broker/
COPY --from=build /app/broker/dist ./broker/dist
COPY --from=build /app/edge-agent/package.json ./edge-agent/
COPY --from=build /app/cli ./cli
COPY --from=build /app/dist ./dist
# `sentinel` on PATH inside the container: docker compose exec hub sentinel model list
RUN ln -s /app/cli/bin/sentinel.js /usr/local/bin/sentinel
RUN mkdir -p /var/lib/sentinel && chown node:node /var/lib/sentinel

USER node
# HTTP(S) API; MQTT and MQTT over WebSocket; mqtts and wss (with TLS_CERT_FILE, see docs/tls.md).
EXPOSE 8070 1883 8083 8883 8084
# GET /health on 127.0.0.1:PORT, over HTTPS when TLS_CERT_FILE is set (scripts/healthcheck.ts).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "dist/scripts/healthcheck.js"]
CMD ["node", "dist/src/main.js"]
