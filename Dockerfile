# One image for the gateway and every worker: `docker run trendgate serve`, `... worker etl`, ...
# The CLI runs the TypeScript sources through tsx (a runtime dependency), as `npx trendgate`
# does in a checkout, so the image needs no compile step for the server.

# --- build: the moderator console (Vite) needs the dev dependencies -----------------------
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

# --- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=4000 \
    PUBLISH_JSONL_PATH=/data/published.jsonl \
    VECTOR_STORE_PATH=/data/vectors
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# tsconfig.json travels with the sources: tsx reads its decorator settings, which type-graphql needs.
COPY tsconfig.json schema.graphql ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY --from=console /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
ENTRYPOINT ["node", "bin/trendgate.js"]
CMD ["serve"]
