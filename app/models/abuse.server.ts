// Card-testing defences on the endpoint that creates checkouts (stripe.md §4): fixed-window rate
// limits per IP and per email, kept in Postgres so every app instance shares them, and a record
// of every refusal with its reason.
import { lt, sql } from 'drizzle-orm'
import { maxEmailLength, withoutControlCharacters } from '#app/utils/donation-form.ts'
import type { Executor } from '#db/client.ts'
import { rateLimitHits, refusedRequests } from '#db/schema/ops.ts'

export interface Limit {
  name: string
  max: number
  windowMs: number
}

export const checkoutLimits = {
  perIp: { name: 'ip', max: 10, windowMs: 10 * 60_000 },
  perEmail: { name: 'email', max: 5, windowMs: 10 * 60_000 },
} satisfies Record<string, Limit>

/** Counts a hit; returns how long to wait (seconds) when over the limit, else null. */
export async function hitLimit(exec: Executor, limit: Limit, subject: string, now = new Date()): Promise<number | null> {
  const windowStart = new Date(Math.floor(now.getTime() / limit.windowMs) * limit.windowMs)
  const { rows } = await exec.execute<{ hits: number }>(sql`
    insert into rate_limit_hits (key, window_start, hits) values (${`${limit.name}:${subject}`}, ${windowStart}, 1)
    on conflict (key, window_start) do update set hits = rate_limit_hits.hits + 1
    returning hits`)
  if (rows[0]!.hits <= limit.max) return null
  return Math.ceil((windowStart.getTime() + limit.windowMs - now.getTime()) / 1000)
}

export async function recordRefusal(
  exec: Executor,
  refusal: { reason: string; route: string; ip?: string | null; email?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await exec.insert(refusedRequests).values({
    reason: refusal.reason,
    route: refusal.route,
    ip: refusal.ip ?? null,
    // What a refused form said it was, kept only as far as it can be: a bot's field may be any length
    // and hold a NUL, which PostgreSQL cannot store.
    email: refusal.email == null ? null : withoutControlCharacters(refusal.email).slice(0, maxEmailLength),
    detail: refusal.detail ?? null,
  })
}

/** Old windows are useless once closed. */
export async function pruneRateLimits(exec: Executor, now = new Date()): Promise<void> {
  await exec.delete(rateLimitHits).where(lt(rateLimitHits.windowStart, new Date(now.getTime() - 86_400_000)))
}
