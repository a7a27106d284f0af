# syntax=docker/dockerfile:1
# The kubedask image (CPU): the `kubedask` CLI - operator, scheduler, worker, local, demo.
#   docker build -t ghcr.io/kubedask/kubedask:0.1.0 .
# GPU workers use Dockerfile.gpu (same layout, plus onnxruntime-node's CUDA provider).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# CPU image: onnxruntime-node downloads nothing at install time (its CPU provider is bundled).
# ONNXRUNTIME_NODE_INSTALL is read by onnxruntime-node >= 1.22, ONNXRUNTIME_NODE_INSTALL_CUDA by older ones.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip
# Dependencies first, so source changes reuse the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json index.ts ./
COPY bin/ bin/
COPY scripts/ scripts/
COPY proto/ proto/
COPY protocol/ protocol/
COPY scheduler/ scheduler/
COPY worker/ worker/
COPY client/ client/
COPY cli/ cli/
COPY operator/ operator/
COPY bench/ bench/
COPY sim/ sim/
COPY dashboard/ dashboard/
COPY dataframe/ dataframe/
COPY ml/ ml/
RUN npm run build:image \
 && npm prune --omit=dev --no-audit --no-fund \
 && chmod 0755 bin/kubedask.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
# Compiled code (dist/ holds cli/, operator/, scheduler/, worker/, client/, dataframe/, ml/, dashboard/, bench/ and sim/,
# which `kubedask sim` runs; no tests), the launcher and the production node_modules.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/bin/ bin/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/node_modules/ node_modules/
# `kubedask` on PATH; a writable place for modules that clients upload (the rest of /app stays
# read-only to the runtime user).
RUN ln -s /app/bin/kubedask.js /usr/local/bin/kubedask \
 && mkdir -p /app/.kubedask \
 && chown 10001:10001 /app/.kubedask
USER 10001:10001
# scheduler gRPC, dashboard, metrics; operator metrics and health
EXPOSE 8786 8787 8788 8080 8081
ENTRYPOINT ["kubedask"]
CMD ["--help"]
