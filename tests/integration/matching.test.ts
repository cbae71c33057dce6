// The matching engine on real Postgres: every pledge rule, reservations as pending transfers,
// proportional reversal with retrospective matching, disputes, challenges, leftovers, gifts in
// another currency, explainMatch, and totals checked against the ledger.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { and, eq, sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { endCheckout, markProcessing } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { explainMatch } from '#app/models/match-explain.server.ts'
import { giftEntry } from '#app/models/ledger.server.ts'
import { giftTerms, planFastSettlement, settleFast } from '#app/models/match-settle.server.ts'
import { couldUseFreeCap, giftColumns, hasFreeCap, readPledges, type Gift } from '#app/models/match-store.server.ts'
import { ineligibility } from '#app/models/match-rules.ts'
import { matchRetrospectively } from '#app/models/match-retro.server.ts'
import { lockPledges } from '#app/models/match-store.server.ts'
import { closePledge, offerFreeCap, previewMatch, releaseExpiredReservations, releaseReservations } from '#app/models/matching.server.ts'
import { verifyCampaignTotals } from '#app/models/totals.server.ts'
import { db, getDatabaseUrl } from '#app/utils/db.server.ts'
import { matchPledges } from '#db/schema/catalog.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { matchPledgeDonors, matchReservations, matches } from '#db/schema/matching.ts'
import { chargeBalance, countRows, createCampaign, createCatalog, createDonation, createDonor, type PledgeOptions } from '#tests/factories.ts'
import {
  dispute,
  donationOf,
  entriesOf,
  entryBy,
  expectLedgerClean,
  inMinutes,
  matchOf,
  pledgeOf,
  postingsOf,
  refund,
  refundFacts,
  reinstatement,
  reserve,
  settle,
  totalsOf,
  withdrawal,
} from '#tests/gifts.ts'

const day = 86_400_000

async function campaignWith(pledges: PledgeOptions[], options: { currency?: string } = {}) {
  await createCatalog()
  return createCampaign({ pledges, ...options })
}

/** Creates, reserves and settles a gift; returns the donation. */
async function give(campaignId: number, amountMinor: number, options: { donorId?: number; designationId?: string; settledAt?: Date; createdAt?: Date } = {}) {
  const donation = await createDonation({ campaignId, amountMinor, donorId: options.donorId, designationId: options.designationId, createdAt: options.createdAt })
  await reserve(donation.id)
  await settle(donation.id, amountMinor, { settledAt: options.settledAt })
  return donation
}

async function explain(donationId: string) {
  return (await explainMatch(db, donationId))!.join('\n')
}

async function reservationsOf(donationId: string) {
  return db.select().from(matchReservations).where(eq(matchReservations.donationId, donationId))
}

/** Settled at increasing times, so "oldest first" is well defined. */
const at = (minute: number) => new Date(Date.now() - day + minute * 60_000)

describe('pledge rules', () => {
  test('cap: gifts are matched 1:1 until the cap, the gift that crosses it is part-matched and told why', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const first = await give(campaign.id, 7_000)
    const second = await createDonation({ campaignId: campaign.id, amountMinor: 5_000 })
    const quote = await reserve(second.id)
    expect(quote).toMatchObject({ totalMatchMinor: 3_000, fullyMatched: false, lines: [{ amountMinor: 3_000, limitedBy: 'cap' }] })
    await settle(second.id, 5_000)
    expect(await matchOf(first.id)).toBe(7_000)
    expect(await matchOf(second.id)).toBe(3_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 10_000, reservedMinor: 0 })
    expect(await donationOf(second.id)).toMatchObject({ matchShortfallMinor: 2_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 12_000, matchedMinor: 10_000, donorsCount: 2, giftsCount: 2 })
    const words = await explain(second.id)
    expect(words).toMatch(/Matched \$30\.00 by One Day's Wages \(1:1\); \$30\.00 was reserved at checkout; limited by the match cap was reached\./)
    expect(words).toMatch(/Net match: \$30\.00\. \$20\.00 of the gift is waiting for freed cap/)
    await expectLedgerClean()
  })

  test('ratio: 2:1 doubles, 1:2 halves (floored in the pledge’s favour)', async () => {
    await createCatalog()
    const double = await createCampaign({ pledges: [{ ratioNum: 2 }] })
    const half = await createCampaign({ pledges: [{ ratioDen: 2 }] })
    const a = await give(double.campaign.id, 2_501)
    const b = await give(half.campaign.id, 2_501)
    expect(await matchOf(a.id)).toBe(5_002)
    expect(await matchOf(b.id)).toBe(1_250)
    expect(await totalsOf(double.campaign.id)).toMatchObject({ matchedMinor: 5_002 })
    expect(await totalsOf(half.campaign.id)).toMatchObject({ matchedMinor: 1_250 })
    await expectLedgerClean()
  })

  test('window: a gift made before the pledge starts is not matched, even if it settles inside the window', async () => {
    const starts = new Date(Date.now() - day)
    const { campaign } = await campaignWith([{ startsAt: starts }])
    const early = await createDonation({ campaignId: campaign.id, createdAt: new Date(starts.getTime() - 1) })
    const inside = await createDonation({ campaignId: campaign.id, createdAt: starts })
    for (const d of [early, inside]) {
      await reserve(d.id)
      await settle(d.id, 5_000)
    }
    expect(await matchOf(early.id)).toBe(0)
    expect(await matchOf(inside.id)).toBe(5_000)
    expect(await donationOf(early.id)).toMatchObject({ matchShortfallMinor: 0 })
    expect(await explain(early.id)).toMatch(/not eligible, because the gift was made outside the pledge's dates/)
  })

  test('order: pledges apply in priority order, the unmatched part flowing on at each pledge’s own ratio', async () => {
    const { campaign, pledges } = await campaignWith([
      { priority: 2, capMinor: 100_000, ratioNum: 2, partnerSlug: 'second-partner' },
      { priority: 1, capMinor: 4_000, partnerSlug: 'first-partner' },
    ])
    const [doubler, first] = pledges
    const gift = await give(campaign.id, 10_000)
    // First 1:1 up to its $40 cap, then the remaining $60 of the gift doubled.
    expect(await matchOf(gift.id, first!.id)).toBe(4_000)
    expect(await matchOf(gift.id, doubler!.id)).toBe(12_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ matchedMinor: 16_000 })
    const receivables = await db.execute<{ path: string; total: number }>(sql`
      select a.path, sum(p.amount_minor)::int8 as total from ledger_postings p join ledger_accounts a on a.id = p.account_id
      where a.path like 'assets:receivable:match:%' group by 1 order by 1`)
    expect(receivables.rows).toEqual([
      { path: 'assets:receivable:match:first-partner', total: 4_000 },
      { path: 'assets:receivable:match:second-partner', total: 12_000 },
    ])
    await expectLedgerClean()
  })

  test('per-gift maximum: a large gift is matched up to the maximum; the rest is not waiting for cap', async () => {
    const { campaign } = await campaignWith([{ perGiftMaxMinor: 25_000 }])
    const big = await give(campaign.id, 100_000)
    expect(await matchOf(big.id)).toBe(25_000)
    expect(await donationOf(big.id)).toMatchObject({ matchShortfallMinor: 0 })
    expect(await explain(big.id)).toMatch(/limited by the pledge's per-gift maximum/)
  })

  test('per-donor maximum: counts held reservations and matches across a donor’s gifts', async () => {
    const { campaign, pledges } = await campaignWith([{ perDonorMaxMinor: 10_000 }])
    const donor = await createDonor()
    const first = await createDonation({ campaignId: campaign.id, donorId: donor.id, amountMinor: 6_000 })
    const second = await createDonation({ campaignId: campaign.id, donorId: donor.id, amountMinor: 6_000 })
    expect((await reserve(first.id)).totalMatchMinor).toBe(6_000)
    // The first gift's hold already uses $60 of the donor's $100.
    expect((await reserve(second.id)).totalMatchMinor).toBe(4_000)
    await settle(first.id, 6_000)
    await settle(second.id, 6_000)
    const other = await give(campaign.id, 6_000)
    expect(await matchOf(first.id)).toBe(6_000)
    expect(await matchOf(second.id)).toBe(4_000)
    expect(await matchOf(other.id)).toBe(6_000)
    const [counter] = await db.select().from(matchPledgeDonors).where(eq(matchPledgeDonors.donorId, donor.id))
    expect(counter).toMatchObject({ pledgeId: pledges[0]!.id, matchedMinor: 10_000, reservedMinor: 0 })
    expect(await explain(second.id)).toMatch(/per-donor maximum/)
    // A refund frees the donor's room for their next gift (only cap shortfalls are matched
    // retrospectively, so the second gift keeps its $40).
    await refund(first.id, refundFacts('re_donor', 6_000))
    const [after] = await db.select().from(matchPledgeDonors).where(eq(matchPledgeDonors.donorId, donor.id))
    expect(after).toMatchObject({ matchedMinor: 4_000, reservedMinor: 0 })
    const third = await give(campaign.id, 7_000, { donorId: donor.id })
    expect(await matchOf(third.id)).toBe(6_000)
    expect(await matchOf(second.id)).toBe(4_000)
    await expectLedgerClean()
  })

  test('designations covered: only gifts to covered designations are matched', async () => {
    const { campaign } = await campaignWith([{ designationIds: ['love-packs'] }])
    const packs = await give(campaign.id, 5_000, { designationId: 'love-packs' })
    const fund = await give(campaign.id, 5_000, { designationId: 'survivor-fund' })
    expect(await matchOf(packs.id)).toBe(5_000)
    expect(await matchOf(fund.id)).toBe(0)
    expect(await explain(fund.id)).toMatch(/not eligible, because the pledge does not cover the gift's designation/)
    const entry = (await entriesOf(packs.id)).find((e) => e.kind === 'match')!
    expect(await postingsOf(entry.id)).toMatchObject({ 'funds:love-packs:match': -5_000 })
  })

  test('monthly gifts: only the first N payments are matched', async () => {
    const { campaign } = await campaignWith([{ matchedInstallments: 2 }])
    const donor = await createDonor()
    const [plan] = await db
      .insert(recurringPlans)
      .values({ campaignId: campaign.id, donorId: donor.id, fiscalPartnerId: 'us', designationId: 'survivor-fund', amountMinor: 2_000, chargedMinor: 2_000, currency: 'USD', status: 'active' })
      .returning()
    const payments = []
    for (const installment of [1, 2, 3]) {
      const [payment] = await db
        .insert(donations)
        .values({
          campaignId: campaign.id, donorId: donor.id, fiscalPartnerId: 'us', designationId: 'survivor-fund', frequency: 'monthly',
          recurringPlanId: plan!.id, installment, amountMinor: 2_000, chargedMinor: 2_000, currency: 'USD', campaignAmountMinor: 2_000, donorName: donor.name, donorCountry: 'US',
        })
        .returning()
      await settle(payment!.id, 2_000)
      payments.push(payment!)
    }
    expect(await Promise.all(payments.map((p) => matchOf(p.id)))).toEqual([2_000, 2_000, 0])
    expect(await explain(payments[2]!.id)).toMatch(/Monthly payment 3 of \$20\.00.*\n.*not eligible, because the pledge matches only the first payments of a monthly gift/)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, matchedMinor: 4_000, donorsCount: 1, giftsCount: 3 })
  })
})

describe('challenges unlock on a target', () => {
  test('in money: gifts before the target wait, and are all matched once the gift that reaches it settles', async () => {
    const { campaign, pledges } = await campaignWith([{ unlockMinRaisedMinor: 10_000, capMinor: 50_000 }])
    const a = await createDonation({ campaignId: campaign.id, amountMinor: 4_000 })
    const quote = await reserve(a.id)
    expect(quote.totalMatchMinor).toBe(0)
    expect(quote.challenges).toEqual([{ partnerName: "One Day's Wages", unlockMinRaisedMinor: 10_000, unlockMinDonors: null }])
    await settle(a.id, 4_000)
    const b = await give(campaign.id, 5_000)
    expect(await matchOf(a.id)).toBe(0)
    expect((await pledgeOf(pledges[0]!.id)).unlockedAt).toBeNull()
    expect(await explain(a.id)).toMatch(/a challenge not yet unlocked/)
    const c = await give(campaign.id, 1_000)
    expect((await pledgeOf(pledges[0]!.id)).unlockedAt).not.toBeNull()
    expect(await Promise.all([a, b, c].map((d) => matchOf(d.id)))).toEqual([4_000, 5_000, 1_000])
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 10_000, matchedMinor: 10_000 })
    expect(await explain(a.id)).toMatch(/retrospectively/)
    // Unlocked for good: the next gift is matched at once.
    const d = await give(campaign.id, 500)
    expect(await matchOf(d.id)).toBe(500)
    await expectLedgerClean()
  })

  test('in donors: the third distinct donor unlocks it; a second gift from the same donor does not count twice', async () => {
    const { campaign, pledges } = await campaignWith([{ unlockMinDonors: 3 }])
    const donor = await createDonor()
    const gifts = [await give(campaign.id, 1_000, { donorId: donor.id }), await give(campaign.id, 1_000, { donorId: donor.id }), await give(campaign.id, 1_000)]
    expect((await totalsOf(campaign.id)).donorsCount).toBe(2)
    expect((await pledgeOf(pledges[0]!.id)).unlockedAt).toBeNull()
    gifts.push(await give(campaign.id, 1_000))
    expect((await pledgeOf(pledges[0]!.id)).unlockedAt).not.toBeNull()
    expect(await Promise.all(gifts.map((g) => matchOf(g.id)))).toEqual([1_000, 1_000, 1_000, 1_000])
    await expectLedgerClean()
  })

  test('a won dispute that brings raised back over the target unlocks the challenge', async () => {
    const { campaign, pledges } = await campaignWith([{ unlockMinRaisedMinor: 10_000 }])
    const a = await give(campaign.id, 6_000)
    const out = withdrawal(6_000)
    await dispute(a.id, { id: 'dp_unlock', amountMinor: 6_000, status: 'needs_response', balances: [out] })
    const b = await give(campaign.id, 5_000)
    expect((await totalsOf(campaign.id)).raisedGiftsMinor).toBe(5_000)
    // Won weeks after it opened: the unlock, and the entries it brings, are dated when the money came back.
    const wonAt = new Date(Date.now() + 30 * 86_400_000)
    await dispute(a.id, { id: 'dp_unlock', amountMinor: 6_000, status: 'won', balances: [out, reinstatement(6_000, { at: wonAt })] })
    expect((await totalsOf(campaign.id)).raisedGiftsMinor).toBe(11_000)
    expect((await pledgeOf(pledges[0]!.id)).unlockedAt).toEqual(wonAt)
    expect(await matchOf(a.id)).toBe(6_000)
    expect(await matchOf(b.id)).toBe(5_000)
    await expectLedgerClean()
  })
})

describe('reservations: held, converted, released', () => {
  test('a reservation holds cap for its time; the sweeper voids it after, and the donation is still pending', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    const quote = await reserve(gift.id, { holdMinutes: 30 })
    expect(quote.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 6_000, matchedMinor: 0 })
    // Asking again returns the same hold rather than taking more.
    expect((await reserve(gift.id)).totalMatchMinor).toBe(6_000)
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(6_000)

    expect(await releaseExpiredReservations(db, inMinutes(29))).toBe(0)
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(6_000)
    expect(await releaseExpiredReservations(db, inMinutes(31))).toBe(1)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 0, matchedMinor: 0 })
    expect(await reservationsOf(gift.id)).toMatchObject([{ status: 'expired' }])
    expect((await donationOf(gift.id)).status).toBe('pending')
    expect(await explain(gift.id)).toMatch(/was reserved until .*: expired\./)
    await expectLedgerClean()
  })

  test('a success after expiry matches only the cap that remains, and the note says so', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const late = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    await reserve(late.id)
    await releaseExpiredReservations(db, inMinutes(31))
    const other = await createDonation({ campaignId: campaign.id, amountMinor: 8_000 })
    expect((await reserve(other.id)).totalMatchMinor).toBe(8_000)
    await settle(late.id, 6_000)
    expect(await matchOf(late.id)).toBe(2_000)
    expect(await explain(late.id)).toMatch(/Matched \$20\.00 by One Day's Wages \(1:1\); the checkout's reservation had expired, so this came from the cap that remained; limited by the match cap was reached\./)
    await settle(other.id, 8_000)
    expect(await matchOf(other.id)).toBe(8_000)
    await expectLedgerClean()
  })

  test('a checkout whose reservation expired is voided by a new checkout that needs the cap', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const stale = await createDonation({ campaignId: campaign.id, amountMinor: 10_000 })
    await reserve(stale.id, { now: new Date(Date.now() - 60 * 60_000), holdMinutes: 30 })
    const fresh = await createDonation({ campaignId: campaign.id, amountMinor: 4_000 })
    expect((await reserve(fresh.id)).totalMatchMinor).toBe(4_000)
    expect(await reservationsOf(stale.id)).toMatchObject([{ status: 'expired' }])
    await expectLedgerClean()
  })

  test('cap freed by a new checkout voiding an expired hold goes to a gift already paid and waiting, first', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const stale = await createDonation({ campaignId: campaign.id, amountMinor: 10_000 })
    await reserve(stale.id, { holdMinutes: 30 })
    // Paid while the abandoned checkout still held the whole cap: it waits for cap.
    const waiting = await give(campaign.id, 5_000)
    expect(await matchOf(waiting.id)).toBe(0)
    // An hour later a new checkout needs the cap and voids the expired hold.
    const fresh = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    const quote = await reserve(fresh.id, { now: new Date(Date.now() + 60 * 60_000) })
    expect(await matchOf(waiting.id)).toBe(5_000)
    expect(quote.totalMatchMinor).toBe(5_000)
    await expectLedgerClean()
  })

  test('the sweeper offers free cap to gifts still waiting: cap a partner raised, or a pass that skipped them', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 3_000 }])
    const first = await give(campaign.id, 5_000)
    const second = await give(campaign.id, 2_000)
    expect([await matchOf(first.id), await matchOf(second.id)]).toEqual([3_000, 0])
    expect(await offerFreeCap(db)).toBe(0) // no room: nothing to do, and no pledge lock taken
    // The partner raises its pledge by $30: the older gift's $20 first, then $10 of the newer one.
    await db.update(matchPledges).set({ capMinor: 6_000 }).where(eq(matchPledges.id, pledges[0]!.id))
    expect(await offerFreeCap(db)).toBe(3_000)
    expect([await matchOf(first.id), await matchOf(second.id)]).toEqual([5_000, 1_000])
    expect(await totalsOf(campaign.id)).toMatchObject({ matchedMinor: 6_000 })
    await expectLedgerClean()
  })

  test('a catch-up pass whose match key is already taken leaves the gift waiting, not unmatched', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 2_000 }])
    const gift = await give(campaign.id, 5_000)
    expect(await donationOf(gift.id)).toMatchObject({ matchShortfallMinor: 3_000 })
    const pass = (cause: string) =>
      db.transaction(async (tx) => matchRetrospectively(tx, await lockPledges(tx, campaign.id), { campaignId: campaign.id, cause, at: new Date() }))
    await db.update(matchPledges).set({ capMinor: 3_000 }).where(eq(matchPledges.id, pledges[0]!.id))
    expect(await pass('unlock:2026-12-07T10:00:00.000Z')).toBe(1_000)
    await db.update(matchPledges).set({ capMinor: 5_000 }).where(eq(matchPledges.id, pledges[0]!.id))
    // The same cause again (two unlocks in one second): its key is taken, so nothing is written...
    expect(await pass('unlock:2026-12-07T10:00:00.000Z')).toBe(0)
    // ...and the gift still waits for the $20, which the next pass gives it.
    expect(await donationOf(gift.id)).toMatchObject({ matchShortfallMinor: 2_000 })
    expect(await offerFreeCap(db)).toBe(2_000)
    expect(await matchOf(gift.id)).toBe(5_000)
    await expectLedgerClean()
  })

  test('a successful payment converts the hold into a match in one transaction', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    await reserve(gift.id)
    await settle(gift.id, 6_000)
    expect(await reservationsOf(gift.id)).toMatchObject([{ status: 'converted' }])
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 0, matchedMinor: 6_000 })
    expect(await explain(gift.id)).toMatch(/\$60\.00 was reserved at checkout/)
  })

  test('cancelled, failed and expired checkouts release their hold; the freed cap matches a gift left short', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const held = [await createDonation({ campaignId: campaign.id, amountMinor: 3_000 }), await createDonation({ campaignId: campaign.id, amountMinor: 3_000 }), await createDonation({ campaignId: campaign.id, amountMinor: 3_000 })]
    for (const d of held) await reserve(d.id)
    const short = await give(campaign.id, 3_000)
    expect(await matchOf(short.id)).toBe(1_000)

    const outcomes = ['canceled', 'failed', 'expired'] as const
    for (const [i, status] of outcomes.entries()) {
      expect(await db.transaction((tx) => endCheckout(tx, held[i]!.id, { status, reason: status === 'failed' ? 'card_declined' : null, at: new Date() }))).toEqual({ applied: true })
    }
    expect((await donationOf(held[1]!.id))).toMatchObject({ status: 'failed', failureReason: 'card_declined' })
    expect((await reservationsOf(held[0]!.id))[0]!.status).toBe('released')
    expect((await reservationsOf(held[2]!.id))[0]!.status).toBe('expired')
    expect(await matchOf(short.id)).toBe(3_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ reservedMinor: 0, matchedMinor: 3_000 })
    // Ending again, or ending a settled gift, changes nothing.
    expect(await db.transaction((tx) => endCheckout(tx, held[0]!.id, { status: 'expired', at: new Date() }))).toEqual({ applied: false })
    expect(await db.transaction((tx) => endCheckout(tx, short.id, { status: 'canceled', at: new Date() }))).toEqual({ applied: false })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_000, matchedMinor: 3_000 })
    await expectLedgerClean()
  })

  test('a delayed payment method keeps its hold past the checkout’s expiry', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    await reserve(gift.id)
    await db.transaction((tx) => markProcessing(tx, gift.id, new Date(Date.now() + 3 * day)))
    expect(await releaseExpiredReservations(db, inMinutes(31))).toBe(0)
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(6_000)
    await settle(gift.id, 6_000)
    expect(await matchOf(gift.id)).toBe(6_000)
  })

  test('a hold extended after the sweeper read it as overdue is not voided', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
    await reserve(gift.id)
    const sweptAt = inMinutes(31)
    // The sweeper's second step, after markProcessing committed between its read and its lock.
    await db.transaction((tx) => markProcessing(tx, gift.id, new Date(sweptAt.getTime() + 3 * day)))
    await db.transaction((tx) => releaseReservations(tx, { donationId: gift.id, status: 'expired', at: sweptAt, onlyExpiredBy: sweptAt }))
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(6_000)
    // Without the bound (a real session expiry), the hold goes.
    await db.transaction((tx) => releaseReservations(tx, { donationId: gift.id, status: 'expired', at: sweptAt }))
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(0)
  })

  test('previewMatch quotes without reserving', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, ratioNum: 2 }])
    const quote = await previewMatch(db, { campaignId: campaign.id, donorId: 1, designationId: 'love-packs', installment: 1, createdAt: new Date(), campaignAmountMinor: 7_000 })
    expect(quote).toMatchObject({ totalMatchMinor: 10_000, fullyMatched: false, lines: [{ limitedBy: 'cap' }] })
    expect((await pledgeOf(pledges[0]!.id)).reservedMinor).toBe(0)
  })
})

describe('refunds and disputes reverse the match; freed cap goes to older gifts first', () => {
  test('a partial refund reverses proportionally; freed cap matches gifts left short, oldest first', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const g1 = await give(campaign.id, 6_000, { settledAt: at(1) })
    const g2 = await give(campaign.id, 6_000, { settledAt: at(2) })
    const g3 = await give(campaign.id, 5_000, { settledAt: at(3) })
    expect([await matchOf(g1.id), await matchOf(g2.id), await matchOf(g3.id)]).toEqual([6_000, 4_000, 0])
    expect([(await donationOf(g2.id)).matchShortfallMinor, (await donationOf(g3.id)).matchShortfallMinor]).toEqual([2_000, 5_000])

    await refund(g1.id, refundFacts('re_half', 3_000))
    expect(await matchOf(g1.id)).toBe(3_000)
    // $30 freed: the older short gift takes its $20 first, the newer one the remaining $10.
    expect(await matchOf(g2.id)).toBe(6_000)
    expect(await matchOf(g3.id)).toBe(1_000)
    expect(await donationOf(g3.id)).toMatchObject({ matchShortfallMinor: 4_000 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 10_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 14_000, matchedMinor: 10_000 })
    const reversal = (await entriesOf(g1.id)).find((e) => e.kind === 'match_reversal')!
    expect(await postingsOf(reversal.id)).toEqual({ 'assets:receivable:match:one-days-wages': -3_000, 'funds:survivor-fund:match': 3_000 })
    expect(await explain(g1.id)).toMatch(/−\$30\.00: Reversed \$30\.00 of One Day's Wages's match: refund took the gift's matchable value from \$60\.00 to \$30\.00\./)
    expect(await explain(g3.id)).toMatch(/Matched \$10\.00 by One Day's Wages retrospectively: cap freed by refund\./)

    // Replaying the refund changes nothing.
    const entries = await countRows('ledger_entries')
    await refund(g1.id, refundFacts('re_half', 3_000))
    expect(await countRows('ledger_entries')).toBe(entries)

    // The rest of g1 refunded: its whole match is reversed, to the cent.
    await refund(g1.id, refundFacts('re_rest', 3_000))
    expect(await matchOf(g1.id)).toBe(0)
    expect(await matchOf(g3.id)).toBe(4_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 11_000, matchedMinor: 10_000, donorsCount: 2 })
    await expectLedgerClean()
  })

  test('odd amounts: successive partial refunds reverse exactly the original match in total', async () => {
    const { campaign } = await campaignWith([{ ratioNum: 2, ratioDen: 3 }])
    const gift = await give(campaign.id, 10_001)
    const matched = await matchOf(gift.id)
    expect(matched).toBe(6_667)
    for (const [i, amount] of [3_333, 1, 2_999, 3_668].entries()) await refund(gift.id, refundFacts(`re_${i}`, amount))
    expect(await matchOf(gift.id)).toBe(0)
    const { rows } = await db.execute<{ reversed: number }>(sql`select -sum(amount_minor)::int8 as reversed from ${matches} where kind = 'reversed'`)
    expect(rows[0]!.reversed).toBe(matched)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    await expectLedgerClean()
  })

  test('a partial refund of a part-matched gift loses no cent: what it may still earn is its value less what it holds', async () => {
    const { campaign } = await campaignWith([{ capMinor: 61 }])
    const gift = await give(campaign.id, 100)
    expect(await donationOf(gift.id)).toMatchObject({ matchShortfallMinor: 39 })
    // 49 of 100 refunded: 51 left, of which 31 stays matched (61 × 51/100, floored). The other 20
    // wait for cap, and the 30 cents just freed match them at once: the gift ends matched 1:1.
    await refund(gift.id, refundFacts('re_cent', 49))
    expect(await matchOf(gift.id)).toBe(51)
    expect(await donationOf(gift.id)).toMatchObject({ countedMinor: 51, matchShortfallMinor: 0 })
    await expectLedgerClean()
  })

  test('a refund that fails restores the gift and its match', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await give(campaign.id, 8_000)
    const facts = refundFacts('re_bounce', 4_000)
    await refund(gift.id, facts)
    expect(await matchOf(gift.id)).toBe(4_000)
    await refund(gift.id, { ...facts, status: 'failed', failureBalance: { id: 'txn_bounce_back', amountMinor: 4_000, feeMinor: 0, netMinor: 4_000, currency: 'USD' } })
    expect(await matchOf(gift.id)).toBe(8_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 8_000, matchedMinor: 8_000 })
    expect(await explain(gift.id)).toMatch(/retrospectively: cap freed by refund-failed/)
    await expectLedgerClean()
  })

  test('a dispute: raised falls when it opens and rises if it is won; the match is untouched', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await give(campaign.id, 6_000)
    const out = withdrawal(6_000)
    await dispute(gift.id, { id: 'dp_won', amountMinor: 6_000, status: 'needs_response', balances: [out] })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 6_000, donorsCount: 0 })
    expect(await matchOf(gift.id)).toBe(6_000)
    await dispute(gift.id, { id: 'dp_won', amountMinor: 6_000, status: 'won', balances: [out, reinstatement(6_000)] })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, matchedMinor: 6_000, donorsCount: 1 })
    expect(await matchOf(gift.id)).toBe(6_000)
    await expectLedgerClean()
  })

  test('a lost dispute reverses the match and frees the cap for a gift left short', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const disputed = await give(campaign.id, 6_000, { settledAt: at(1) })
    const short = await give(campaign.id, 6_000, { settledAt: at(2) })
    expect(await matchOf(short.id)).toBe(4_000)
    const out = withdrawal(6_000)
    await dispute(disputed.id, { id: 'dp_lost', amountMinor: 6_000, status: 'needs_response', balances: [out] })
    expect(await matchOf(disputed.id)).toBe(6_000)
    await dispute(disputed.id, { id: 'dp_lost', amountMinor: 6_000, status: 'lost', balances: [out] })
    expect(await matchOf(disputed.id)).toBe(0)
    expect(await matchOf(short.id)).toBe(6_000)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 6_000, matchedMinor: 6_000, donorsCount: 1 })
    // A late duplicate of the "lost" event changes nothing.
    const entries = await countRows('ledger_entries')
    await dispute(disputed.id, { id: 'dp_lost', amountMinor: 6_000, status: 'lost', balances: [out] })
    expect(await countRows('ledger_entries')).toBe(entries)
    expect(await explain(disputed.id)).toMatch(/Reversed \$60\.00 of One Day's Wages's match: dispute-lost took/)
    await expectLedgerClean()
  })
})

describe('catch-up passes look past gifts no open pledge covers', () => {
  test('freed cap reaches a newer gift its pledge covers, past more older gifts than one pass takes, all waiting for another pledge', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 1_000, designationIds: ['love-packs'] }, { capMinor: 1_000 }])
    const packs = await give(campaign.id, 1_000, { designationId: 'love-packs', settledAt: at(1) })
    await give(campaign.id, 1_000, { settledAt: at(2) })
    // Both caps are full: 210 Survivor Fund gifts wait for the general pledge, then a Love Packs gift.
    for (let i = 0; i < 210; i++) await give(campaign.id, 100, { settledAt: at(3 + i / 100) })
    const waiting = await give(campaign.id, 500, { designationId: 'love-packs', settledAt: at(10) })
    expect(await donationOf(waiting.id)).toMatchObject({ matchShortfallMinor: 500 })

    // The Love Packs pledge's cap frees up: only Love Packs gifts can use it, however many older gifts wait.
    await refund(packs.id, refundFacts('re_packs', 1_000))
    expect(await matchOf(waiting.id, pledges[0]!.id)).toBe(500)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 500 })
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from donations where match_shortfall_minor > 0`)
    expect(rows[0]!.n).toBe(210)
    await expectLedgerClean()
  })

  test('the sweeper pages past gifts a pledge covers but its per-gift maximum refuses, to a newer gift the free cap can serve', async () => {
    const { campaign, pledges } = await campaignWith([
      { capMinor: 100, designationIds: ['love-packs'] },
      { capMinor: 100, designationIds: ['survivor-fund'] },
      { capMinor: 1_000_000, perGiftMaxMinor: 100 },
    ])
    await give(campaign.id, 100, { designationId: 'love-packs', settledAt: at(1) })
    const fund = await give(campaign.id, 100, { designationId: 'survivor-fund', settledAt: at(2) })
    // 201 Love Packs gifts: their own pledge is full and the general one pays each its $1 maximum,
    // so each keeps $9 waiting, which nothing but the Love Packs pledge will ever pay.
    for (let i = 0; i < 201; i++) await give(campaign.id, 1_000, { designationId: 'love-packs', settledAt: at(3 + i / 100) })
    const newer = await give(campaign.id, 1_000, { designationId: 'survivor-fund', settledAt: at(10) })
    await refund(fund.id, refundFacts('re_fund', 100))
    // The pass where the cap freed saw only its first page; the sweeper reaches the newer gift.
    expect(await matchOf(newer.id, pledges[1]!.id)).toBe(0)
    await offerFreeCap(db)
    expect(await matchOf(newer.id, pledges[1]!.id)).toBe(100)
    expect(await pledgeOf(pledges[1]!.id)).toMatchObject({ matchedMinor: 100 })
    await expectLedgerClean()
  })

  test('the SQL that narrows a pass agrees with the matching rules, gift by gift', async () => {
    const now = Date.now()
    const { campaign } = await campaignWith([
      { capMinor: 5_000, designationIds: ['love-packs'], startsAt: new Date(now - 10 * day), endsAt: new Date(now + day) },
      { capMinor: 5_000, matchedInstallments: 2, startsAt: new Date(now - 5 * day), endsAt: new Date(now - day) },
      // Covers no designation at all; and a challenge still locked, which has no cap to give yet.
      { capMinor: 5_000, designationIds: [] },
      { capMinor: 5_000, unlockMinDonors: 1_000 },
    ])
    const donor = await createDonor()
    // A monthly plan of its own for each later payment: one payment per number per plan.
    const planFor = async (designationId: string) =>
      (await db.insert(recurringPlans).values({ campaignId: campaign.id, donorId: donor.id, fiscalPartnerId: 'us', designationId, amountMinor: 100, chargedMinor: 100, currency: 'USD' }).returning({ id: recurringPlans.id }))[0]!.id
    for (const designationId of ['love-packs', 'survivor-fund']) {
      for (const daysAgo of [20, 7, 3, 0.5]) {
        for (const installment of [1, 2, 3]) {
          const gift = await createDonation({ campaignId: campaign.id, donorId: donor.id, designationId, createdAt: new Date(now - daysAgo * day) })
          await db
            .update(donations)
            .set({ status: 'succeeded', settledAt: new Date(now), matchShortfallMinor: 100, installment, recurringPlanId: installment > 1 ? await planFor(designationId) : null })
            .where(eq(donations.id, gift.id))
        }
      }
    }
    const pledges = await readPledges(db, campaign.id)
    const narrowed = new Set(
      (await db.select({ id: donations.id }).from(donations).where(and(eq(donations.campaignId, campaign.id), couldUseFreeCap(pledges)))).map((r) => r.id),
    )
    const gifts = (await db.select(giftColumns).from(donations).where(eq(donations.campaignId, campaign.id))) as Gift[]
    const byRules = gifts.map((gift) => [gift.id, pledges.some((p) => hasFreeCap(p) && ineligibility(p, giftTerms(gift)) === null)] as const)
    expect(gifts.map((gift) => [gift.id, narrowed.has(gift.id)])).toEqual(byRules)
    // Neither side trivially all or nothing: the Love Packs pledge could take 9 of the 24 gifts, the
    // first-two-payments pledge 4, two of them the same.
    expect(byRules.filter(([, could]) => could)).toHaveLength(11)
  })
})

describe('closing a pledge', () => {
  test("'return': holds are voided, waiting gifts matched first, the rest returned with no ledger entry", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, leftoverPolicy: 'return' }])
    const pending = await createDonation({ campaignId: campaign.id, amountMinor: 7_000 })
    await reserve(pending.id)
    const short = await give(campaign.id, 5_000)
    expect(await matchOf(short.id)).toBe(3_000)
    const entries = await countRows('ledger_entries')
    const result = await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))
    // The abandoned hold went back to the cap, the short gift took $20, $50 is returned.
    expect(await matchOf(short.id)).toBe(5_000)
    expect(result).toEqual({ leftoverMinor: 5_000 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ leftoverMinor: 5_000, matchedMinor: 5_000, reservedMinor: 0 })
    expect(await countRows('ledger_entries')).toBe(entries + 1) // the retrospective match only
    expect(await totalsOf(campaign.id)).toMatchObject({ matchedMinor: 5_000 })
    // Closing twice answers the same.
    expect(await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))).toEqual({ leftoverMinor: 5_000 })
    await expectLedgerClean()
  })

  test("'return': a closed pledge matches nothing more, even for a checkout begun before it closed", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, leftoverPolicy: 'return' }])
    const begun = await createDonation({ campaignId: campaign.id, amountMinor: 3_000 })
    await reserve(begun.id)
    await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))
    await settle(begun.id, 3_000)
    expect(await matchOf(begun.id)).toBe(0)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 0, leftoverMinor: 10_000 })
    expect(await explain(begun.id)).toMatch(/One Day's Wages \(1:1, cap \$100\.00, \$100\.00 free now\): not eligible, because the pledge has closed and matches nothing more\./)
    await expectLedgerClean()
  })

  test("'donate': the leftover is the partner's unmatched gift to the campaign's default designation", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, leftoverPolicy: 'donate' }])
    await give(campaign.id, 4_000)
    const result = await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))
    expect(result).toEqual({ leftoverMinor: 6_000 })
    const entry = (await entryBy('match_leftover', `match:${pledges[0]!.id}:leftover`))!
    expect(await postingsOf(entry.id)).toEqual({ 'assets:receivable:match:one-days-wages': 6_000, 'funds:survivor-fund:match': -6_000 })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 10_000, leftoverMinor: 6_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 4_000, matchedMinor: 10_000 })
    const [row] = await db.select().from(matches).where(eq(matches.kind, 'leftover'))
    expect(row!.note).toMatch(/gave the \$60\.00 left of its cap unmatched/)
    await expectLedgerClean()
  })

  test("closing serves every waiting gift the cap can, past one pass's 200, before the leftover is fixed", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 100_000, leftoverPolicy: 'donate' }])
    // An open checkout holds the whole cap, so 205 paid gifts are left waiting for it.
    await reserve((await createDonation({ campaignId: campaign.id, amountMinor: 100_000 })).id)
    for (let i = 0; i < 205; i++) await give(campaign.id, 100, { settledAt: at(1 + i / 100) })
    const result = await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))
    expect(result).toEqual({ leftoverMinor: 100_000 - 205 * 100 })
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from donations where match_shortfall_minor > 0`)
    expect(rows[0]!.n).toBe(0)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 20_500, matchedMinor: 100_000 })
    await expectLedgerClean()
  })

  test("'donate' on a challenge that never unlocked: nothing was owed, so nothing is booked", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, leftoverPolicy: 'donate', unlockMinRaisedMinor: 20_000 }])
    await give(campaign.id, 4_000)
    const entries = await countRows('ledger_entries')
    const result = await db.transaction((tx) => closePledge(tx, { pledgeId: pledges[0]!.id, at: new Date() }))
    expect(result).toEqual({ leftoverMinor: 10_000 })
    expect(await countRows('ledger_entries')).toBe(entries)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 0, leftoverMinor: 10_000 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 4_000, matchedMinor: 0 })
    await expectLedgerClean()
  })
})

describe('gifts in another currency', () => {
  test("a GBP gift to a USD campaign counts at Stripe's rate when it settles in dollars, at the table rate otherwise", async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 100_000 }])
    const table = { currency: 'GBP', campaignAmountMinor: 12_700, campaignFxRate: '1.27' }
    // Charged by the US partner: Stripe converts pounds to dollars at its own rate.
    const viaUs = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, ...table })
    expect((await reserve(viaUs.id)).totalMatchMinor).toBe(12_700)
    await settle(viaUs.id, 10_000, { currency: 'USD', exchangeRate: '1.2650' })
    expect(await donationOf(viaUs.id)).toMatchObject({ campaignAmountMinor: 12_650, campaignFxRate: '1.26500000', campaignFxSource: 'stripe', countedMinor: 12_650 })
    expect(await matchOf(viaUs.id)).toBe(12_650)
    // Charged by the UK partner in pounds: no conversion by Stripe, so finance's dated rate.
    const viaUk = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, fiscalPartnerId: 'uk', ...table })
    await reserve(viaUk.id)
    await settle(viaUk.id, 10_000, { currency: 'GBP' })
    expect(await donationOf(viaUk.id)).toMatchObject({ campaignAmountMinor: 12_700, campaignFxSource: 'table', countedMinor: 12_700 })
    expect(await matchOf(viaUk.id)).toBe(12_700)

    const gift = (await entriesOf(viaUk.id)).find((e) => e.kind === 'gift')!
    expect(gift).toMatchObject({ fiscalPartnerId: 'uk', currency: 'GBP', campaignValueMinor: 12_700 })
    const match = (await entriesOf(viaUk.id)).find((e) => e.kind === 'match')!
    expect(match).toMatchObject({ fiscalPartnerId: 'us', currency: 'USD' })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 25_350, reservedMinor: 0 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 25_350, matchedMinor: 25_350 })
    expect(await explain(viaUs.id)).toMatch(/Gift of £100\.00 to ".*", counted as \$126\.50 \(GBP→USD at 1\.26500000, Stripe's settlement rate\)/)
    expect(await explain(viaUk.id)).toMatch(/\(GBP→USD at 1\.27000000, finance's dated rate\)/)

    // A half refund in pounds reverses half of the dollar match.
    await refund(viaUk.id, refundFacts('re_gbp', 5_000, { currency: 'GBP' }))
    expect(await matchOf(viaUk.id)).toBe(6_350)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 12_650 + 6_350, matchedMinor: 12_650 + 6_350 })
    await expectLedgerClean()
  })

  test('cap a converted hold no longer needs (the settled value came in lower) goes to a gift left short', async () => {
    const { campaign } = await campaignWith([{ capMinor: 12_700 }])
    const pounds = await createDonation({ campaignId: campaign.id, amountMinor: 10_000, currency: 'GBP', campaignAmountMinor: 12_700, campaignFxRate: '1.27' })
    expect((await reserve(pounds.id)).totalMatchMinor).toBe(12_700)
    const short = await give(campaign.id, 5_000, { settledAt: at(1) })
    expect(await matchOf(short.id)).toBe(0)
    await settle(pounds.id, 10_000, { currency: 'USD', exchangeRate: '1.2650' })
    expect(await matchOf(pounds.id)).toBe(12_650)
    expect(await matchOf(short.id)).toBe(50)
    await expectLedgerClean()
  })
})

describe('the short settlement (the common case)', () => {
  /** What settleDonation plans from, then settleFast run on that plan in a transaction of its own. */
  async function planFor(donationId: string, campaignId: number) {
    const donation = await donationOf(donationId)
    const gift = { ...donation, status: 'succeeded' as const, settledAt: new Date() }
    const holds = await reservationsOf(donationId)
    return { gift, plan: planFastSettlement(await readPledges(db, campaignId), holds, gift) }
  }
  function runPlan({ gift, plan }: Awaited<ReturnType<typeof planFor>>) {
    const balance = chargeBalance(gift.amountMinor, { feeMinor: 0 })
    const at = new Date()
    return db.transaction((tx) =>
      settleFast(tx, {
        gift,
        plan: plan!,
        at,
        settled: {
          status: 'succeeded', chargeId: `ch_${balance.id}`, paymentIntentId: null, invoiceId: null, balanceTransactionId: balance.id,
          settledAmountMinor: balance.amountMinor, settledFeeMinor: 0, settledNetMinor: balance.netMinor, settlementCurrency: 'USD',
          exchangeRate: null, campaignAmountMinor: gift.campaignAmountMinor, campaignFxRate: '1', campaignFxSource: 'identity',
          countedMinor: gift.campaignAmountMinor, matchShortfallMinor: 0, failureReason: null, settledAt: at, updatedAt: at,
        },
        giftEntry: giftEntry({
          fiscalPartnerId: 'us', designationId: gift.designationId, feeDesignationId: gift.designationId, campaignId: gift.campaignId, donationId: gift.id,
          balance, campaignValueMinor: gift.campaignAmountMinor, effectiveAt: at,
        }),
      }),
    )
  }

  test('writes nothing when the cap moved after it planned, and the general path then matches what remains', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    const late = await createDonation({ campaignId: campaign.id, amountMinor: 5_000 })
    const planned = await planFor(late.id, campaign.id)
    expect(planned.plan).toMatchObject({ matchedMinor: 5_000 })
    await give(campaign.id, 8_000) // takes the cap the plan counted on
    const before = { entries: await countRows('ledger_entries'), totals: await totalsOf(campaign.id) }
    expect(await runPlan(planned)).toBe(false)
    // Rolled back to its savepoint: not even the gift's own rows were kept.
    expect(await countRows('ledger_entries')).toBe(before.entries)
    expect(await totalsOf(campaign.id)).toEqual(before.totals)
    expect(await donationOf(late.id)).toMatchObject({ status: 'pending', balanceTransactionId: null })
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 8_000 })
    await settle(late.id, 5_000)
    expect(await matchOf(late.id)).toBe(2_000)
    await expectLedgerClean()
  })

  test('writes nothing when the gift’s hold was voided after it planned', async () => {
    const { campaign } = await campaignWith([{ capMinor: 10_000 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 4_000 })
    await reserve(gift.id, { now: new Date(Date.now() - 60 * 60_000) })
    const planned = await planFor(gift.id, campaign.id)
    expect(planned.plan!.matchedMinor).toBe(4_000)
    await releaseExpiredReservations(db, new Date())
    expect(await runPlan(planned)).toBe(false)
    expect(await countRows('matches')).toBe(0)
    await settle(gift.id, 4_000)
    expect(await explain(gift.id)).toMatch(/reservation had expired, so this came from the cap that remained/)
    await expectLedgerClean()
  })

  test('when the plan holds, it settles the gift exactly as the general path would', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000, ratioNum: 2 }])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 3_000 })
    await reserve(gift.id)
    expect(await runPlan(await planFor(gift.id, campaign.id))).toBe(true)
    expect(await matchOf(gift.id)).toBe(6_000)
    expect(await pledgeOf(pledges[0]!.id)).toMatchObject({ matchedMinor: 6_000, reservedMinor: 0 })
    expect(await reservationsOf(gift.id)).toMatchObject([{ status: 'converted' }])
    expect(await totalsOf(campaign.id)).toMatchObject({ matchedMinor: 6_000, raisedGiftsMinor: 3_000, donorsCount: 1, giftsCount: 1 })
    expect(await explain(gift.id)).toMatch(/Matched \$60\.00 by One Day's Wages \(2:1\); \$60\.00 was reserved at checkout\./)
  })

  test('is not used where the general path is needed: per-donor maximum, locked challenge, cap running out', async () => {
    await createCatalog()
    for (const pledge of [{ perDonorMaxMinor: 10_000 }, { unlockMinDonors: 2 }, { capMinor: 1_000 }]) {
      const { campaign } = await createCampaign({ pledges: [pledge] })
      const gift = await createDonation({ campaignId: campaign.id, amountMinor: 5_000 })
      expect((await planFor(gift.id, campaign.id)).plan).toBeNull()
    }
    const { campaign } = await createCampaign({ pledges: [{ capMinor: 10_000 }] })
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 5_000 })
    expect((await planFor(gift.id, campaign.id)).plan).not.toBeNull()
  })
})

describe('explainMatch', () => {
  test('says in words why a gift got what it got: partial, ineligible, reversed, covered fees, pending', async () => {
    const { campaign } = await campaignWith([
      { capMinor: 2_000, partnerSlug: 'first-partner' },
      { priority: 2, designationIds: ['love-packs'], partnerSlug: 'packs-partner' },
    ])
    const gift = await createDonation({ campaignId: campaign.id, amountMinor: 5_000, feeCoveredMinor: 175 })
    await reserve(gift.id)
    await settle(gift.id, 5_175)
    await refund(gift.id, refundFacts('re_explain', 5_175))
    const lines = (await explainMatch(db, gift.id))!
    expect(lines[0]).toBe('Gift of $50.00 to "Aftercare for Survivors of Trafficking in Thailand", counted as $50.00; status succeeded.')
    expect(lines[1]).toBe('The donor also covered $1.75 of card fees, which is never matched.')
    expect(lines).toContain('first-partner (1:1, cap $20.00, $20.00 free now): eligible.')
    expect(lines).toContain("packs-partner (1:1, cap $15,000.00, $15,000.00 free now): not eligible, because the pledge does not cover the gift's designation.")
    expect(lines.some((l) => /^\d{4}-\d\d-\d\d \+\$20\.00: Matched \$20\.00 by first-partner \(1:1\); \$20\.00 was reserved at checkout; limited by the match cap was reached\.$/.test(l))).toBe(true)
    expect(lines.some((l) => /−\$20\.00: Reversed \$20\.00 of first-partner's match: refund took the gift's matchable value from \$50\.00 to \$0\.00\./.test(l))).toBe(true)
    expect(lines.at(-1)).toBe('Net match: $0.00.')

    const pending = await createDonation({ campaignId: campaign.id, amountMinor: 1_000 })
    expect((await explainMatch(db, pending.id))!.at(-1)).toBe('Nothing is reserved for this gift.')
    expect(await explainMatch(db, '00000000-0000-0000-0000-000000000000')).toBeNull()
  })
})

describe('totals against the ledger', () => {
  test('verifyCampaignTotals reports drift in every field of a tampered totals row or pledge, and ledger:check calls it an error', async () => {
    const { campaign, pledges } = await campaignWith([{ capMinor: 10_000 }])
    await give(campaign.id, 5_000)
    expect(await verifyCampaignTotals(db, campaign.id)).toEqual([])
    await db.execute(sql`update campaign_totals set raised_gifts_minor = raised_gifts_minor + 1, donors_count = 7, gifts_count = 3 where campaign_id = ${campaign.id}`)
    await db.execute(sql`update match_pledges set matched_minor = matched_minor - 100 where id = ${pledges[0]!.id}`)
    expect(await verifyCampaignTotals(db, campaign.id)).toEqual([
      { campaignId: campaign.id, field: 'donors_count', pledgeId: null, stored: 7, fromLedger: 1 },
      { campaignId: campaign.id, field: 'gifts_count', pledgeId: null, stored: 3, fromLedger: 1 },
      { campaignId: campaign.id, field: 'pledge_matched_minor', pledgeId: pledges[0]!.id, stored: 4_900, fromLedger: 5_000 },
      { campaignId: campaign.id, field: 'raised_gifts_minor', pledgeId: null, stored: 5_001, fromLedger: 5_000 },
    ])
    const errors = (await checkLedger(db)).filter((f) => f.severity === 'error')
    expect(errors.map((e) => e.detail)).toEqual([
      `campaign ${campaign.id} donors_count: stored 7, ledger says 1`,
      `campaign ${campaign.id} gifts_count: stored 3, ledger says 1`,
      `campaign ${campaign.id} pledge_matched_minor (pledge ${pledges[0]!.id}): stored 4900, ledger says 5000`,
      `campaign ${campaign.id} raised_gifts_minor: stored 5001, ledger says 5000`,
    ])
  })

  test('ledger:check reports a guard trigger disabled by the table owner, or a guard key dropped', async () => {
    await campaignWith([{ capMinor: 10_000 }])
    expect(await checkLedger(db)).toEqual([])
    await db.transaction(async (tx) => {
      await tx.execute(sql`alter table ledger_postings disable trigger ledger_postings_append_only`)
      await tx.execute(sql`alter table match_pledges drop constraint match_pledges_within_cap`)
      // The posting check as migration 0001 wrote it, before 0009.
      await tx.execute(sql.raw(`create or replace function check_ledger_posting_balanced() returns trigger language plpgsql as $$
        begin perform assert_ledger_entry_balanced(NEW.entry_id); return null; end $$`))
      expect((await checkLedger(tx)).filter((f) => f.check === 'guards')).toEqual([
        { severity: 'error', check: 'guards', detail: 'trigger ledger_postings_append_only on ledger_postings is disabled' },
        { severity: 'error', check: 'guards', detail: 'check_ledger_posting_balanced no longer refuses postings added to a committed entry' },
        { severity: 'error', check: 'guards', detail: 'constraint match_pledges_within_cap is missing' },
      ])
      // Undone with the rest of the test's transaction.
      tx.rollback()
    }).catch((error: unknown) => {
      if (!(error instanceof Error && error.message === 'Rollback')) throw error
    })
    expect(await checkLedger(db)).toEqual([])
  })

  test('ledger:check reports per-donor counters that disagree with the match rows', async () => {
    const { campaign, pledges } = await campaignWith([{ perDonorMaxMinor: 10_000 }])
    const gift = await give(campaign.id, 4_000)
    expect(await checkLedger(db)).toEqual([])
    await db.execute(sql`update match_pledge_donors set matched_minor = matched_minor + 1`)
    expect(await checkLedger(db)).toEqual([
      {
        severity: 'error',
        check: 'per-donor counters',
        detail: `pledge ${pledges[0]!.id} donor ${gift.donorId}: matched 4001 (rows say 4000), reserved 0 (holds say 0)`,
      },
    ])
  })

  test('npm run ledger:check exits 0 on clean books and 1, with the report, when they are off', async () => {
    const { campaign } = await campaignWith([{ perDonorMaxMinor: 10_000 }])
    await give(campaign.id, 4_000)
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/ledger-check.ts'], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: getDatabaseUrl() },
        encoding: 'utf8',
        timeout: 60_000,
      })
    const clean = run()
    expect(clean.stdout).toContain('ledger:check clean')
    expect(clean.status).toBe(0)
    await db.execute(sql`update match_pledge_donors set matched_minor = matched_minor + 1`)
    const off = run()
    expect(off.stdout).toMatch(/ERROR +\[per-donor counters\][^\n]*matched 4001 \(rows say 4000\)/)
    expect(off.stdout).toContain('ledger:check FAILED: 1 errors')
    expect(off.status).toBe(1)
  })

  test('ledger:check is clean after a busy campaign: pledges, holds, expiries, refunds, disputes, a close', async () => {
    const { campaign, pledges } = await campaignWith([
      { capMinor: 20_000, perDonorMaxMinor: 9_000 },
      { priority: 2, capMinor: 15_000, ratioNum: 2, designationIds: ['love-packs', 'survivor-fund'], leftoverPolicy: 'donate' },
      { priority: 3, capMinor: 50_000, unlockMinDonors: 5 },
    ])
    const donors = await Promise.all([1, 2, 3, 4].map(() => createDonor()))
    const gifts = []
    for (let i = 0; i < 14; i++) {
      const donation = await createDonation({
        campaignId: campaign.id, donorId: donors[i % 4]!.id, amountMinor: 1_000 + 777 * i, feeCoveredMinor: i % 3 === 0 ? 60 : 0,
        designationId: ['love-packs', 'survivor-fund', 'unrestricted'][i % 3],
      })
      await reserve(donation.id)
      if (i % 5 === 4) await db.transaction((tx) => endCheckout(tx, donation.id, { status: 'canceled', at: new Date() }))
      else if (i % 7 === 6) await releaseExpiredReservations(db, inMinutes(31))
      else {
        await settle(donation.id, donation.chargedMinor, { settledAt: at(i) })
        gifts.push(donation)
      }
      expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
    }
    await refund(gifts[0]!.id, refundFacts('re_busy_1', 500))
    await refund(gifts[1]!.id, refundFacts('re_busy_2', gifts[1]!.chargedMinor))
    const out = withdrawal(gifts[2]!.chargedMinor)
    await dispute(gifts[2]!.id, { id: 'dp_busy', amountMinor: gifts[2]!.chargedMinor, status: 'needs_response', balances: [out] })
    await dispute(gifts[2]!.id, { id: 'dp_busy', amountMinor: gifts[2]!.chargedMinor, status: 'lost', balances: [out] })
    await give(campaign.id, 2_500)
    await give(campaign.id, 2_500)
    for (const pledge of pledges) await db.transaction((tx) => closePledge(tx, { pledgeId: pledge.id, at: new Date() }))
    expect((await checkLedger(db)).filter((f) => f.severity === 'error')).toEqual([])
    expect(await verifyCampaignTotals(db)).toEqual([])
    const totals = await totalsOf(campaign.id)
    const { rows } = await db.execute<{ matched: number }>(sql`select sum(matched_minor)::int8 as matched from match_pledges`)
    expect(totals.matchedMinor).toBe(rows[0]!.matched)
  })
})
