/**
 * The yardstick: a bare `node:http` + `pg` server answering GET /agents/{id}
 * with the same indexed SELECT the registry runs, no auth, no framework.
 *   DATABASE_URL=postgres://… PORT=… tsx bench/bare-server.ts
 */
import { createServer } from "node:http";
import pg from "pg";

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.BARE_POOL ?? 10),
});
const SELECT = `select * from agents where id = $1 and status <> 'Deleted'`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const server = createServer((req, res) => {
  const id = req.url?.startsWith("/agents/") ? req.url.slice("/agents/".length) : "";
  if (!UUID.test(id)) {
    res.writeHead(404, { "content-type": "application/json" }).end('{"message":"not found"}');
    return;
  }
  pool.query(SELECT, [id]).then(
    (r) => {
      if (!r.rows[0]) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"message":"not found"}');
        return;
      }
      const { created_by: _c, deleted_at: _d, ...agent } = r.rows[0];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(agent));
    },
    () => res.writeHead(500).end(),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : ""}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
