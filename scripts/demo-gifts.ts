// Demo gifts for a fresh database, recorded through the same settlement path a Stripe webhook
// takes (gift-events → ledger, matching, totals), so the seeded bar, the books and
// `npm run ledger:check` agree from the first start. Balance transactions are synthetic
// (txn_demo_…) and shaped like Stripe's: fee, net, and an exchange rate when converted.
import { eq } from 'drizzle-orm'
import { settleDonation } from '#app/models/gift-events.server.ts'
import { closePledge } from '#app/models/matching.server.ts'
import { tableRate } from '#app/models/fx-rates.server.ts'
import { convertMinor } from '#app/utils/money.ts'
import type { Db } from '#db/client.ts'
import { campaigns, matchPledges } from '#db/schema/catalog.ts'
import { donations, donors } from '#db/schema/giving.ts'

interface DemoGift {
  campaign: string
  name: string
  country: string
  partner: 'us' | 'uk' | 'nz'
  currency: 'USD' | 'GBP' | 'NZD'
  amountMinor: number
  designationId: string
  daysAgo: number
  coverFee?: boolean
  anonymous?: boolean
  tribute?: { type: 'honour' | 'memory'; name: string }
}

const gifts: DemoGift[] = [
  { campaign: 'aftercare-thailand', name: 'Maya Thompson', country: 'US', partner: 'us', currency: 'USD', amountMinor: 100_000, designationId: 'survivor-fund', daysAgo: 13 },
  { campaign: 'aftercare-thailand', name: 'Oliver Bennett', country: 'GB', partner: 'uk', currency: 'GBP', amountMinor: 50_000, designationId: 'love-packs', daysAgo: 11 },
  { campaign: 'aftercare-thailand', name: 'Grace Liu', country: 'US', partner: 'us', currency: 'USD', amountMinor: 50_000, designationId: 'caregiver-training', daysAgo: 9, anonymous: true },
  { campaign: 'aftercare-thailand', name: 'Aroha Ngata', country: 'NZ', partner: 'nz', currency: 'NZD', amountMinor: 100_000, designationId: 'survivor-fund', daysAgo: 8 },
  { campaign: 'aftercare-thailand', name: 'Siobhan Kelly', country: 'IE', partner: 'us', currency: 'GBP', amountMinor: 20_000, designationId: 'love-packs', daysAgo: 6 },
  { campaign: 'aftercare-thailand', name: 'David Okafor', country: 'US', partner: 'us', currency: 'USD', amountMinor: 25_000, designationId: 'survivor-fund', daysAgo: 4, coverFee: true, tribute: { type: 'memory', name: 'Ruth Okafor' } },
  { campaign: 'aftercare-thailand', name: 'Hannah Becker', country: 'US', partner: 'us', currency: 'USD', amountMinor: 10_000, designationId: 'unrestricted', daysAgo: 2 },
  { campaign: 'aftercare-thailand', name: 'Tom Ashby', country: 'GB', partner: 'uk', currency: 'GBP', amountMinor: 5_000, designationId: 'love-packs', daysAgo: 1, anonymous: true },
  { campaign: 'safe-homes-winter-appeal', name: 'Laura Chen', country: 'US', partner: 'us', currency: 'USD', amountMinor: 250_000, designationId: 'survivor-fund', daysAgo: 100 },
  { campaign: 'safe-homes-winter-appeal', name: 'James Walker', country: 'US', partner: 'us', currency: 'USD', amountMinor: 200_000, designationId: 'unrestricted', daysAgo: 85 },
  { campaign: 'safe-homes-winter-appeal', name: 'Priya Natarajan', country: 'NZ', partner: 'nz', currency: 'NZD', amountMinor: 150_000, designationId: 'survivor-fund', daysAgo: 70 },
]

/** What each demo account settles in, its card fee, and the rate Stripe "converted" at. */
const settlement = {
  us: { currency: 'USD', bps: 290, fixed: 30 },
  uk: { currency: 'GBP', bps: 150, fixed: 20 },
  nz: { currency: 'NZD', bps: 270, fixed: 30 },
} as const
const stripeRates: Record<string, string> = { 'GBP>USD': '1.2683', 'NZD>USD': '0.5874' }

export async function seedDemoGifts(db: Db, now = new Date()): Promise<void> {
  for (const [index, gift] of gifts.entries()) {
    const [campaign] = await db.select().from(campaigns).where(eq(campaigns.slug, gift.campaign))
    if (!campaign) continue
    const madeAt = new Date(now.getTime() - gift.daysAgo * 86_400_000)
    const account = settlement[gift.partner]
    const fee = gift.coverFee ? Math.round((gift.amountMinor * account.bps) / 10_000) + account.fixed : 0
    const charged = gift.amountMinor + fee
    const rate = gift.currency === campaign.currency ? '1' : ((await tableRate(db, gift.currency, campaign.currency, now)) ?? '1')
    const converted = gift.currency !== account.currency ? stripeRates[`${gift.currency}>${account.currency}`]! : null
    const settledAmount = converted ? convertMinor(charged, converted) : charged
    const settledFee = Math.round((settledAmount * (account.bps + (converted ? 100 : 0))) / 10_000) + account.fixed

    await db.transaction(async (tx) => {
      const email = `${gift.name.toLowerCase().replace(/\W+/g, '.')}@example.org`
      const [donor] = await tx
        .insert(donors)
        .values({ email, name: gift.name, country: gift.country })
        .onConflictDoUpdate({ target: donors.email, set: { name: gift.name } })
        .returning({ id: donors.id })
      const [donation] = await tx
        .insert(donations)
        .values({
          campaignId: campaign.id,
          donorId: donor!.id,
          fiscalPartnerId: gift.partner,
          designationId: gift.designationId,
          frequency: 'one_off',
          amountMinor: gift.amountMinor,
          feeCoveredMinor: fee,
          chargedMinor: charged,
          currency: gift.currency,
          campaignAmountMinor: convertMinor(gift.amountMinor, rate),
          campaignFxRate: rate,
          campaignFxSource: rate === '1' ? 'identity' : 'table',
          tributeType: gift.tribute?.type ?? null,
          tributeName: gift.tribute?.name ?? null,
          anonymous: gift.anonymous ?? false,
          donorName: gift.name,
          donorCountry: gift.country,
          createdAt: madeAt,
        })
        .returning({ id: donations.id })
      await settleDonation(tx, donation!.id, {
        chargeId: `ch_demo_${index + 1}`,
        paymentIntentId: `pi_demo_${index + 1}`,
        balance: {
          id: `txn_demo_${index + 1}`,
          amountMinor: settledAmount,
          feeMinor: settledFee,
          netMinor: settledAmount - settledFee,
          currency: account.currency,
          exchangeRate: converted,
        },
        settledAt: new Date(madeAt.getTime() + 60_000),
      })
    })
  }
  // The finished campaign's pledge has been closed, its leftover returned to the partner.
  const [closed] = await db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, 'safe-homes-winter-appeal'))
  if (closed) {
    const pledges = await db.select({ id: matchPledges.id, endsAt: matchPledges.endsAt }).from(matchPledges).where(eq(matchPledges.campaignId, closed.id))
    for (const pledge of pledges) await db.transaction((tx) => closePledge(tx, { pledgeId: pledge.id, at: pledge.endsAt }))
  }
}
