import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'

export type Db = NodePgDatabase
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Anything that can run a query: the database or a transaction inside it. */
export type Executor = Db | Tx

// int8 (bigint, count(*), sum over bigint casts) arrives as a string by default. Our amounts are
// integer minor units far below 2^53, so read them as numbers, and fail loudly if one ever isn't.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`int8 ${value} is beyond the safe integer range`)
  return parsed
})

export function createPool(url: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10, ...options })
  // An idle client losing its connection (a restart, a dropped test database) must not crash
  // the process; the pool discards that client and the next query opens a new one.
  pool.on('error', () => {})
  return pool
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool)
}

/**
 * The pg pool under a drizzle database (drizzle keeps it as $client, which its type leaves out),
 * for the few hot statements sent as named prepared statements: parsed and planned once per
 * connection, one round trip each.
 */
export function poolOf(database: Db): Pick<pg.Pool, 'query'> {
  return (database as Db & { $client: pg.Pool }).$client
}
