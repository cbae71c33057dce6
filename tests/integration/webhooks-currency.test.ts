// Gifts in another currency than the campaign's (DESIGN.md "Money"): the ledger posts what Stripe
// settled, in the settlement currency, at the fiscal partner that took the gift; the campaign counts
// the gift at the rate recorded for it — Stripe's own rate when Stripe converted into the
// campaign's currency, otherwise finance's dated rate recorded at checkout — and never recomputes
// it. Refunds at a later rate book the difference as realised exchange.
import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { describe, expect, test } from 'vitest'
import { db } from '#app/utils/db.server.ts'
import { campaigns, fxRates, matchPledges } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { closeDispute, openDispute, payNextInvoice, refundCharge } from '#tests/mocks/stripe/simulate.ts'
import { getFakeObject, setFakeExchangeRate } from '#tests/mocks/stripe/state.ts'
import { createCampaign, createCatalog } from '#tests/factories.ts'
import { donationOf, entriesOf, entryBy, expectLedgerClean, matchOf, postingsOf, totalsOf } from '#tests/gifts.ts'
import { accountBalances, balanceOf, deliverQueued, giveAndPay } from '#tests/support/webhooks.ts'

async function usdCampaign() {
  await createCatalog()
  return createCampaign({ currency: 'USD' })
}

describe('a GBP gift to a USD campaign', () => {
  test('through the UK partner: settled in GBP, counted in USD at the rate recorded at checkout', async () => {
    const { campaign } = await usdCampaign()
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 2_500, currency: 'GBP', country: 'GB' })
    expect(gift.fiscalPartnerId).toBe('uk')

    const bt = balanceOf(gift.chargeId!)
    expect(bt).toMatchObject({ currency: 'gbp', amount: 2_500, exchange_rate: null, fee: 103 })
    // Finance changes the table afterwards: the gift keeps the rate it was recorded with.
    await db.update(fxRates).set({ rate: '1.50000000' }).where(eq(fxRates.base, 'GBP'))
    expect(await donationOf(gift.donationId)).toMatchObject({
      status: 'succeeded',
      currency: 'GBP',
      settledAmountMinor: 2_500,
      settledFeeMinor: 103,
      settledNetMinor: 2_397,
      settlementCurrency: 'GBP',
      exchangeRate: null,
      campaignFxRate: '1.27000000',
      campaignFxSource: 'table',
      campaignAmountMinor: 3_175,
      countedMinor: 3_175,
    })
    const giftEntry = (await entryBy('gift', bt.id))!
    expect(giftEntry).toMatchObject({ fiscalPartnerId: 'uk', currency: 'GBP', campaignValueMinor: 3_175 })
    expect(await postingsOf(giftEntry.id)).toEqual({ 'assets:stripe': 2_397, 'funds:survivor-fund:fees': 103, 'funds:survivor-fund:gifts': -2_500 })
    // The match is the pledge's: One Day's Wages at the US partner, in dollars.
    const match = (await entriesOf(gift.donationId)).find((e) => e.kind === 'match')!
    expect(match).toMatchObject({ fiscalPartnerId: 'us', currency: 'USD' })
    expect(await matchOf(gift.donationId)).toBe(3_175)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_175, matchedMinor: 3_175, giftsCount: 1, donorsCount: 1 })
    expect(await accountBalances()).toEqual({
      'uk GBP assets:stripe': 2_397,
      'uk GBP funds:survivor-fund:fees': 103,
      'uk GBP funds:survivor-fund:gifts': -2_500,
      'us USD assets:receivable:match:one-days-wages': 3_175,
      'us USD funds:survivor-fund:match': -3_175,
    })
    await expectLedgerClean(db, { strict: true })
  })

  test('through the US partner: Stripe converts into USD, and its rate is the one recorded', async () => {
    const { campaign } = await usdCampaign()
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 2_500, currency: 'GBP', country: 'GB', partnerChoice: 'us' })
    expect(gift.fiscalPartnerId).toBe('us')
    const bt = balanceOf(gift.chargeId!)
    expect(bt).toMatchObject({ currency: 'usd', amount: 3_175, exchange_rate: 1.27 })
    expect(await donationOf(gift.donationId)).toMatchObject({
      settledAmountMinor: 3_175,
      settledFeeMinor: bt.fee,
      settledNetMinor: 3_175 - bt.fee,
      settlementCurrency: 'USD',
      exchangeRate: '1.27000000',
      campaignFxSource: 'stripe',
      campaignAmountMinor: 3_175,
    })
    expect(await postingsOf((await entryBy('gift', bt.id))!.id)).toEqual({
      'assets:stripe': 3_175 - bt.fee,
      'funds:survivor-fund:fees': bt.fee,
      'funds:survivor-fund:gifts': -3_175,
    })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_175, matchedMinor: 3_175 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a refund after the pound fell: the fund gives back what it got, the difference is exchange', async () => {
    const { campaign } = await usdCampaign()
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 2_500, currency: 'GBP', country: 'GB', partnerChoice: 'us' })
    setFakeExchangeRate('GBP', 'USD', 1.2)
    const events = refundCharge(gift.chargeId!)
    await deliverQueued('us')
    const refund = events.find((e) => e.type === 'refund.created')!.data.object as Stripe.Refund
    const entry = (await entryBy('refund', refund.balance_transaction as string))!
    expect(entry).toMatchObject({ currency: 'USD', campaignValueMinor: -3_175 })
    expect(await postingsOf(entry.id)).toEqual({
      'assets:stripe': -3_000,
      'funds:survivor-fund:refunds': 3_175,
      'funds:unrestricted:fx': -175,
    })
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 2_500, countedMinor: 0 })
    expect(await matchOf(gift.donationId)).toBe(0)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 0, donorsCount: 0 })
    await expectLedgerClean(db)
  })

  test('a partial refund of a UK gift takes its share of the recorded USD value off the campaign', async () => {
    const { campaign } = await usdCampaign()
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 2_500, currency: 'GBP', country: 'GB' })
    refundCharge(gift.chargeId!, { amount: 1_000 })
    await deliverQueued('uk')
    expect(await donationOf(gift.donationId)).toMatchObject({ refundedMinor: 1_000, countedMinor: 1_905 })
    expect(await matchOf(gift.donationId)).toBe(1_905)
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 1_905, matchedMinor: 1_905, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })

  test('a dispute withdrawn at one rate and reinstated at another books both differences as exchange', async () => {
    const { campaign } = await usdCampaign()
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 2_500, currency: 'GBP', country: 'GB', partnerChoice: 'us' })
    setFakeExchangeRate('GBP', 'USD', 1.3)
    const dispute = openDispute(gift.chargeId!)[0]!.data.object as Stripe.Dispute
    await deliverQueued('us')
    const withdrawal = (await entryBy('dispute_withdrawal', dispute.balance_transactions[0]!.id))!
    expect(await postingsOf(withdrawal.id)).toEqual({
      'assets:stripe': -(3_250 + 1_500),
      'funds:survivor-fund:disputes': 3_175,
      'funds:unrestricted:fees': 1_500,
      'funds:unrestricted:fx': 75,
    })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 0, matchedMinor: 3_175 })

    setFakeExchangeRate('GBP', 'USD', 1.25)
    closeDispute(dispute.id, 'won')
    await deliverQueued('us')
    const reinstated = getFakeObject<Stripe.Dispute>(dispute.id)!.balance_transactions[1]!
    expect(await postingsOf((await entryBy('dispute_reinstatement', reinstated.id))!.id)).toEqual({
      'assets:stripe': 3_125,
      'funds:survivor-fund:disputes': -3_175,
      'funds:unrestricted:fx': 50,
    })
    expect(await donationOf(gift.donationId)).toMatchObject({ disputedMinor: 0, countedMinor: 3_175, campaignAmountMinor: 3_175 })
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 3_175, matchedMinor: 3_175, donorsCount: 1 })
    await expectLedgerClean(db)
  })

  test('a monthly GBP gift through the UK partner: each month counted at the rate recorded for it', async () => {
    const { campaign } = await usdCampaign()
    const endsAt = new Date(Date.now() + 120 * 86_400_000)
    await db.update(campaigns).set({ endsAt }).where(eq(campaigns.id, campaign.id))
    await db.update(matchPledges).set({ endsAt }).where(eq(matchPledges.campaignId, campaign.id))
    const gift = await giveAndPay({ campaignSlug: campaign.slug, amountMinor: 1_000, currency: 'GBP', country: 'GB', frequency: 'monthly' })
    // Finance records a new rate for next month; the first gift keeps its own.
    const nextMonth = new Date(Date.now() + 31 * 86_400_000)
    await db.insert(fxRates).values({ base: 'GBP', quote: 'USD', effectiveOn: nextMonth.toISOString().slice(0, 10), rate: '1.30000000', source: 'test' })
    payNextInvoice(gift.subscriptionId!, { at: new Date(nextMonth.getTime() + 60_000) })
    await deliverQueued('uk')
    const months = await db.select().from(donations).where(eq(donations.campaignId, campaign.id)).orderBy(donations.installment)
    expect(months.map((d) => [d.installment, d.settlementCurrency, d.campaignFxRate, d.campaignFxSource, d.countedMinor])).toEqual([
      [1, 'GBP', '1.27000000', 'table', 1_270],
      [2, 'GBP', '1.30000000', 'table', 1_300],
    ])
    expect(await Promise.all(months.map((d) => matchOf(d.id)))).toEqual([1_270, 1_300])
    expect(await totalsOf(campaign.id)).toMatchObject({ raisedGiftsMinor: 2_570, matchedMinor: 2_570, giftsCount: 2, donorsCount: 1 })
    await expectLedgerClean(db, { strict: true })
  })
})

