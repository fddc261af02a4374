// PostGraphile 5 (amber preset) serving schema `peer` in one Node process: the benchmark's
// reference server. Settings come from the environment:
//   PEER_DATABASE_URL  node-postgres connection string (socket:/dir?db=NAME&user=U&port=P)
//   PEER_PORT          HTTP port on 127.0.0.1
//   PEER_POOL_SIZE     connections in the pool (default 32)
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.PEER_DATABASE_URL,
      schemas: ["peer"],
      // Keep idle connections, as asyncpg's pool does, so rounds start alike.
      poolConfig: { max: Number(process.env.PEER_POOL_SIZE ?? 32), idleTimeoutMillis: 0 },
    }),
  ],
  grafserv: { port: Number(process.env.PEER_PORT), host: "127.0.0.1", graphiql: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.once("listening", () => console.log(`peer listening on ${process.env.PEER_PORT}`));
serv.addTo(server).catch((error) => {
  console.error("PostGraphile failed to start", error);
  process.exit(1);
});
server.listen({ port: Number(process.env.PEER_PORT), host: "127.0.0.1" });

const stop = () => {
  server.close();
  Promise.resolve(pgl.release()).finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
