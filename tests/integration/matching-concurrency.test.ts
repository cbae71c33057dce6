// Giving-day traffic around a $15,000 1:1 cap: 200 checkouts reserved and settled from 16
// connections at once. The cap is taken under the pledge row lock (and backed by a CHECK), so the
// match ends at exactly min(cap, Σ gifts), nothing is ever reserved past the cap, and the books and
// totals agree with the ledger. Only 40001/40P01 would be retried; none is expected.
import { sql } from 'drizzle-orm'
import type pg from 'pg'
import { afterEach, expect, test } from 'vitest'
import { endCheckout, settleDonation } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { releaseExpiredReservations, reserveMatch } from '#app/models/matching.server.ts'
import { db, getDatabaseUrl } from '#app/utils/db.server.ts'
import { createDb, createPool, type Db } from '#db/client.ts'
import { isRetryable, postgresError } from '#db/errors.ts'
import { chargeBalance, createCampaign, createCatalog, createDonation, createDonor } from '#tests/factories.ts'
import { pledgeOf, totalsOf } from '#tests/gifts.ts'

const cap = 1_500_000
const connections = 16

let pools: pg.Pool[] = []
afterEach(async () => {
  await Promise.all(pools.map((p) => p.end()))
  pools = []
})

function openConnections(n: number): Db[] {
  pools = Array.from({ length: n }, () => createPool(getDatabaseUrl(), { max: 1 }))
  return pools.map(createDb)
}

/** Varied amounts, $5 to $250, from a fixed seed so a failure can be replayed. */
function amounts(n: number, seed = 42): number[] {
  let x = seed
  return Array.from({ length: n }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31
    return 500 + (x % 24_501)
  })
}

interface Stats {
  retries: number
  failures: unknown[]
}

/** Runs a transaction, retrying only serialization failures and deadlocks, a bounded number of times. */
async function withRetry<T>(stats: Stats, run: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (isRetryable(error) && attempt < 10) {
        stats.retries++
        continue
      }
      stats.failures.push(postgresError(error)?.message ?? error)
      return undefined
    }
  }
}

/** Samples the pledge while the traffic runs: matched + reserved must never pass the cap. */
function watchPledge(pledgeId: number) {
  const pool = createPool(getDatabaseUrl(), { max: 1 })
  const watcher = createDb(pool)
  let stop = false
  const samples: { matched: number; reserved: number }[] = []
  const done = (async () => {
    while (!stop) {
      const { rows } = await watcher.execute<{ matched: number; reserved: number }>(
        sql`select matched_minor as matched, reserved_minor as reserved from match_pledges where id = ${pledgeId}`,
      )
      samples.push(rows[0]!)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await pool.end()
  })()
  return {
    samples,
    async stop() {
      stop = true
      await done
    },
  }
}

async function setup(n: number) {
  await createCatalog()
  const { campaign, pledges } = await createCampaign({ pledges: [{ capMinor: cap }] })
  // 60 donors give 200 gifts, so the donor count is exercised under contention too.
  const donors = []
  for (let i = 0; i < 60; i++) donors.push(await createDonor())
  const values = amounts(n)
  const gifts = []
  for (const [i, amountMinor] of values.entries()) {
    gifts.push(await createDonation({ campaignId: campaign.id, amountMinor, donorId: donors[i % donors.length]!.id }))
  }
  return { campaign, pledge: pledges[0]!, gifts }
}

async function expectBooks(campaignId: number, pledgeId: number, settled: { amountMinor: number; donorId: number }[]) {
  const raised = settled.reduce((s, g) => s + g.amountMinor, 0)
  const expectedMatch = Math.min(cap, raised)
  expect(await pledgeOf(pledgeId)).toMatchObject({ matchedMinor: expectedMatch, reservedMinor: 0 })
  expect(await totalsOf(campaignId)).toMatchObject({
    raisedGiftsMinor: raised,
    matchedMinor: expectedMatch,
    giftsCount: settled.length,
    donorsCount: new Set(settled.map((g) => g.donorId)).size,
  })
  const { rows } = await db.execute<{ held: number; converted: number }>(sql`
    select count(*) filter (where status = 'held')::int as held, count(*) filter (where status = 'converted')::int as converted
    from match_reservations`)
  expect(rows[0]!.held).toBe(0)
  expect(await checkLedger(db)).toEqual([])
  return { raised, expectedMatch }
}

test('200 gifts reserved and settled from 16 connections end at exactly min(cap, Σ gifts) matched', async () => {
  const { campaign, pledge, gifts } = await setup(200)
  const total = gifts.reduce((s, g) => s + g.amountMinor, 0)
  expect(total).toBeGreaterThan(cap) // the cap binds
  const dbs = openConnections(connections)
  const stats: Stats = { retries: 0, failures: [] }
  const watch = watchPledge(pledge.id)
  const started = performance.now()
  await Promise.all(
    dbs.map(async (conn, worker) => {
      for (let i = worker; i < gifts.length; i += connections) {
        const gift = gifts[i]!
        await withRetry(stats, () => conn.transaction((tx) => reserveMatch(tx, { donationId: gift.id, expiresAt: new Date(Date.now() + 30 * 60_000) })))
        await withRetry(stats, () =>
          conn.transaction((tx) => settleDonation(tx, gift.id, { chargeId: `ch_${gift.id}`, balance: chargeBalance(gift.amountMinor), settledAt: new Date() })),
        )
      }
    }),
  )
  const elapsed = performance.now() - started
  await watch.stop()

  expect(stats.failures).toEqual([])
  expect(stats.retries).toBe(0)
  expect(watch.samples.length).toBeGreaterThan(0)
  for (const s of watch.samples) expect(s.matched + s.reserved).toBeLessThanOrEqual(cap)
  const { expectedMatch } = await expectBooks(campaign.id, pledge.id, gifts)
  expect(expectedMatch).toBe(cap)
  // Every cent of the cap went to a gift, and no gift was matched beyond its value.
  const { rows } = await db.execute<{ over: number; matched: number }>(sql`
    select count(*) filter (where m.total > d.campaign_amount_minor)::int as over, sum(m.total)::int8 as matched
    from donations d join (select donation_id, sum(amount_minor) as total from matches group by 1) m on m.donation_id = d.id`)
  expect(rows[0]).toEqual({ over: 0, matched: cap })
  expect(elapsed).toBeLessThan(45_000)
})

test('with a third of checkouts cancelled, failed or expiring (and a sweeper) at the same time, the books still close exactly', async () => {
  const { campaign, pledge, gifts } = await setup(200)
  const dbs = openConnections(connections)
  const stats: Stats = { retries: 0, failures: [] }
  const watch = watchPledge(pledge.id)
  const settled: typeof gifts = []
  const sweeperPool = createPool(getDatabaseUrl(), { max: 1 })
  const sweeperDb = createDb(sweeperPool)
  let sweeping = true
  let swept = 0
  const sweeper = (async () => {
    while (sweeping) {
      swept += (await withRetry(stats, () => releaseExpiredReservations(sweeperDb, new Date(), 10))) ?? 0
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()

  await Promise.all(
    dbs.map(async (conn, worker) => {
      for (let i = worker; i < gifts.length; i += connections) {
        const gift = gifts[i]!
        const fate = i % 6
        // Fate 0: the donor walks away and the hold runs out (it was taken 31 minutes "ago").
        const now = fate === 0 ? new Date(Date.now() - 31 * 60_000) : new Date()
        await withRetry(stats, () => conn.transaction((tx) => reserveMatch(tx, { donationId: gift.id, expiresAt: new Date(now.getTime() + 30 * 60_000), now })))
        if (fate === 0) continue
        if (fate === 3) {
          await withRetry(stats, () => conn.transaction((tx) => endCheckout(tx, gift.id, { status: i % 2 ? 'canceled' : 'failed', at: new Date() })))
          continue
        }
        await withRetry(stats, () =>
          conn.transaction((tx) => settleDonation(tx, gift.id, { chargeId: `ch_${gift.id}`, balance: chargeBalance(gift.amountMinor), settledAt: new Date() })),
        )
        settled.push(gift)
      }
    }),
  )
  sweeping = false
  await sweeper
  await sweeperPool.end()
  // Whatever the sweeper had not reached yet, it reaches now.
  await releaseExpiredReservations(db, new Date(), 1_000)
  await watch.stop()

  expect(stats.failures).toEqual([])
  expect(stats.retries).toBe(0)
  expect(swept).toBeGreaterThan(0)
  for (const s of watch.samples) expect(s.matched + s.reserved).toBeLessThanOrEqual(cap)
  expect(settled.length).toBe(gifts.filter((_, i) => i % 6 !== 0 && i % 6 !== 3).length)
  const { raised } = await expectBooks(campaign.id, pledge.id, settled)
  expect(raised).toBeGreaterThan(cap)
  const { rows } = await db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from match_reservations group by 1 order by 1`)
  expect(Object.fromEntries(rows.map((r) => [r.status, r.n]))).toMatchObject({ expired: expect.any(Number), released: expect.any(Number) })
})
