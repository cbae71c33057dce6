// Monthly giving in tests: a campaign long enough for several monthly payments to fall inside it
// and its pledges, a monthly gift paid at checkout with its plan, and dates some months on.
import { eq } from 'drizzle-orm'
import { db } from '#app/utils/db.server.ts'
import { campaigns, matchPledges } from '#db/schema/catalog.ts'
import { recurringPlans } from '#db/schema/giving.ts'
import { createCampaign, createCatalog, type PledgeOptions } from '#tests/factories.ts'
import { giveAndPay } from './webhooks.ts'

export const day = 86_400_000

export async function longCampaign(pledges: PledgeOptions[] = [{}]) {
  await createCatalog()
  const { campaign, pledges: rows } = await createCampaign({ pledges })
  const endsAt = new Date(Date.now() + 120 * day)
  await db.update(campaigns).set({ endsAt }).where(eq(campaigns.id, campaign.id))
  await db.update(matchPledges).set({ endsAt }).where(eq(matchPledges.campaignId, campaign.id))
  return { campaign, pledges: rows }
}

/** A monthly gift whose first payment was made by card at checkout, and the plan it started. */
export async function monthlyGift(slug: string, amountMinor = 2_000) {
  const gift = await giveAndPay({ campaignSlug: slug, amountMinor, frequency: 'monthly' })
  const [plan] = await db.select().from(recurringPlans)
  return { ...gift, plan: plan! }
}

/** `n` months from now, a minute past, so a payment dated then falls due after any made now. */
export const inMonths = (n: number) => new Date(Date.now() + n * 30 * day + 60_000)
