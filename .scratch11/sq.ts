import Database from 'better-sqlite3';
const db = new Database(':memory:');
db.exec(`CREATE TABLE "t" (id varchar(10) NOT NULL, user_name varchar(255), PRIMARY KEY(id))`);
db.exec(`CREATE INDEX u ON t(user_name)`);
const num = `("id" = '0' OR ("id" GLOB '[1-9]*' AND "id" NOT GLOB '*[^0-9]*' AND length("id") <= 10))`;
const expr = `CASE WHEN ${num} THEN CAST("id" AS INTEGER) END`;
db.exec(`CREATE INDEX e ON t ((${expr}))`);
db.exec(`CREATE INDEX p ON t (length("id"), "id") WHERE ${num}`);
const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
db.transaction(() => { for (let i = 1; i <= 3000; i++) ins.run(String(i), 'u' + i); ins.run('abc', 'x'); })();
db.exec('ANALYZE');
for (const q of [
  `SELECT MAX(${expr}) FROM t`,
  `SELECT ${expr} AS n FROM t WHERE n IS NOT NULL ORDER BY n DESC LIMIT 1`,
  `SELECT id FROM t WHERE ${num} ORDER BY length("id") DESC, "id" DESC LIMIT 1`,
  `SELECT * FROM t WHERE user_name = ?`,
]) { console.log(q.slice(0, 60)); console.log(db.prepare('EXPLAIN QUERY PLAN ' + q).all(...(q.includes('?') ? ['u1'] : []))); try { console.log(db.prepare(q).get(...(q.includes('?') ? ['u1'] : []))); } catch (e) { console.log(e.message) } }
