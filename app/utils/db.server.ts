// The one place that opens the app's connection pool.
import type pg from 'pg'
import { createDb, createPool, type Db } from '#db/client.ts'
import { getEnv } from './env.server.ts'

let current: { url: string; pool: pg.Pool; db: Db } | undefined

/** Points the app at a database. Tests call it per test with a fresh database. */
export function connectDatabase(url: string, options: pg.PoolConfig = {}): void {
  if (current) throw new Error('A database is already connected; disconnect it first')
  const pool = createPool(url, options)
  current = { url, pool, db: createDb(pool) }
}

export async function disconnectDatabase(): Promise<void> {
  const closing = current
  current = undefined
  await closing?.pool.end()
}

export function getDatabaseUrl(): string {
  return connected().url
}

function connected() {
  if (!current) {
    const url = getEnv().DATABASE_URL
    if (!url) throw new Error('DATABASE_URL is not set and no database was connected')
    connectDatabase(url)
  }
  return current!
}

/**
 * The app's database. A stable reference that follows whichever database is connected, so
 * modules can import it once while tests swap databases underneath.
 */
export const db: Db = new Proxy({} as Db, {
  get(_target, property) {
    const real = connected().db
    const value = Reflect.get(real, property, real)
    return typeof value === 'function' ? value.bind(real) : value
  },
})
