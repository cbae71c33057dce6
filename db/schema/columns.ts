import { bigint, timestamp } from 'drizzle-orm/pg-core'

/** Money is an integer count of minor units (cents, pence); the currency lives in its own column. */
export const minor = (name: string) => bigint(name, { mode: 'number' })

export const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

export const createdAt = () => at('created_at').notNull().defaultNow()
