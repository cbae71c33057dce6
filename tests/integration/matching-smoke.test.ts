import { eq } from 'drizzle-orm'
import { expect, test } from 'vitest'
import { endCheckout, recordDispute, recordRefund, settleDonation } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { explainMatch } from '#app/models/match-explain.server.ts'
import { reserveMatch } from '#app/models/matching.server.ts'
import { db } from '#app/utils/db.server.ts'
import { matchPledges } from '#db/schema/catalog.ts'
import { campaignTotals } from '#db/schema/matching.ts'
import { chargeBalance, createCampaign, createCatalog, createDonation, nextBalanceId } from '#tests/factories.ts'

test('a gift reserves, settles, is partly refunded and disputed, and the books stay clean', async () => {
  await createCatalog()
  const { campaign, pledges } = await createCampaign({ pledges: [{ capMinor: 10_000 }] })
  const first = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
  const second = await createDonation({ campaignId: campaign.id, amountMinor: 6_000 })
  const hold = new Date(Date.now() + 30 * 60_000)

  const q1 = await db.transaction((tx) => reserveMatch(tx, { donationId: first.id, expiresAt: hold }))
  const q2 = await db.transaction((tx) => reserveMatch(tx, { donationId: second.id, expiresAt: hold }))
  expect(q1.totalMatchMinor).toBe(6_000)
  expect(q2.totalMatchMinor).toBe(4_000)
  expect(q2.fullyMatched).toBe(false)

  const settledAt = new Date()
  for (const d of [first, second]) {
    await db.transaction((tx) =>
      settleDonation(tx, d.id, { chargeId: `ch_${d.id.slice(0, 8)}`, balance: chargeBalance(6_000), settledAt }),
    )
  }
  let [totals] = await db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, campaign.id))
  expect(totals).toMatchObject({ raisedGiftsMinor: 12_000, matchedMinor: 10_000, donorsCount: 2, giftsCount: 2 })

  // Half of the first gift refunded: its match halves, and the freed cap goes to the second gift.
  await db.transaction((tx) =>
    recordRefund(tx, first.id, {
      id: 're_1', amountMinor: 3_000, currency: 'USD', status: 'succeeded', reason: null,
      balance: { id: nextBalanceId(), amountMinor: -3_000, feeMinor: 0, netMinor: -3_000, currency: 'USD' },
      failureBalance: null, at: new Date(),
    }),
  )
  ;[totals] = await db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, campaign.id))
  expect(totals).toMatchObject({ raisedGiftsMinor: 9_000, matchedMinor: 9_000 })

  // The second gift is disputed and lost.
  const withdrawal = { id: nextBalanceId(), amountMinor: -6_000, feeMinor: 1_500, netMinor: -7_500, currency: 'USD' }
  await db.transaction((tx) =>
    recordDispute(tx, second.id, { id: 'dp_1', amountMinor: 6_000, currency: 'USD', status: 'needs_response', reason: 'fraudulent', balances: [withdrawal], at: new Date() }),
  )
  await db.transaction((tx) =>
    recordDispute(tx, second.id, { id: 'dp_1', amountMinor: 6_000, currency: 'USD', status: 'lost', reason: 'fraudulent', balances: [withdrawal], at: new Date() }),
  )
  ;[totals] = await db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, campaign.id))
  expect(totals).toMatchObject({ raisedGiftsMinor: 3_000, matchedMinor: 3_000, donorsCount: 1 })
  const [pledge] = await db.select().from(matchPledges).where(eq(matchPledges.id, pledges[0]!.id))
  expect(pledge).toMatchObject({ matchedMinor: 3_000, reservedMinor: 0 })

  const third = await createDonation({ campaignId: campaign.id, amountMinor: 2_000 })
  await db.transaction((tx) => reserveMatch(tx, { donationId: third.id, expiresAt: hold }))
  await db.transaction((tx) => endCheckout(tx, third.id, { status: 'expired', at: new Date() }))
  const [after] = await db.select().from(matchPledges).where(eq(matchPledges.id, pledges[0]!.id))
  expect(after!.reservedMinor).toBe(0)

  expect(await checkLedger(db)).toEqual([])
  const explanation = await explainMatch(db, first.id)
  expect(explanation!.join('\n')).toMatch(/Reversed \$30\.00/)
})
