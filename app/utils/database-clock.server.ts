// Times that queues compare with times the database wrote (a row's default now(), a lease set by
// another process) come from the database's clock, never from this process's: a clock that lags
// the database's would leave due work waiting. Tests pass `at` to stand in for that clock.
import { sql, type SQL } from 'drizzle-orm'

export interface DatabaseClock {
  now: SQL
  /** `now` plus `ms` milliseconds. */
  after(ms: number): SQL
}

export function databaseClock(at?: Date): DatabaseClock {
  const now = at ? sql`${at.toISOString()}::timestamptz` : sql`now()`
  return { now, after: (ms) => sql`${now} + make_interval(secs => ${ms / 1000})` }
}
