// What a donor sees about their own gift: before paying (the review) and after (thank you).
// Reached by the donation's random id, which only the donor's browser and Stripe know.
import { eq, sql } from 'drizzle-orm'
import { db } from '#app/utils/db.server.ts'
import { campaigns, designations, fiscalPartners, matchPledges, partnerOrganisations } from '#db/schema/catalog.ts'
import { donations, giftAidDeclarations } from '#db/schema/giving.ts'
import { campaignTotals, matchReservations, matches } from '#db/schema/matching.ts'

export async function getDonationSummary(donationId: string) {
  const [row] = await db
    .select({
      id: donations.id,
      status: donations.status,
      frequency: donations.frequency,
      amountMinor: donations.amountMinor,
      feeCoveredMinor: donations.feeCoveredMinor,
      chargedMinor: donations.chargedMinor,
      currency: donations.currency,
      campaignAmountMinor: donations.campaignAmountMinor,
      refundedMinor: donations.refundedMinor,
      disputedMinor: donations.disputedMinor,
      anonymous: donations.anonymous,
      tributeType: donations.tributeType,
      tributeName: donations.tributeName,
      donorCountry: donations.donorCountry,
      checkoutUrl: donations.checkoutUrl,
      checkoutSessionId: donations.checkoutSessionId,
      checkoutExpiresAt: donations.checkoutExpiresAt,
      failureReason: donations.failureReason,
      designationName: designations.name,
      fiscalPartnerId: donations.fiscalPartnerId,
      partnerLegalName: fiscalPartners.legalName,
      partnerDisplayName: fiscalPartners.displayName,
      campaignId: campaigns.id,
      campaignSlug: campaigns.slug,
      campaignTitle: campaigns.title,
      campaignCurrency: campaigns.currency,
      donorTargetMinor: campaigns.donorTargetMinor,
      /** The Gift Aid declaration's sentence as recorded (amount, scope, charity; nothing personal). */
      giftAidWording: sql<string | null>`(select g.wording_text from ${giftAidDeclarations} g where g.donation_id = ${donations.id})`,
    })
    .from(donations)
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .innerJoin(designations, eq(designations.id, donations.designationId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, donations.fiscalPartnerId))
    .where(eq(donations.id, donationId))
  if (!row) return null
  const [reserved, earned, totals, caps] = await Promise.all([
    db
      .select({
        partnerName: partnerOrganisations.name,
        amountMinor: matchReservations.amountMinor,
        portionMinor: matchReservations.portionMinor,
        status: matchReservations.status,
        expiresAt: matchReservations.expiresAt,
      })
      .from(matchReservations)
      .innerJoin(matchPledges, eq(matchPledges.id, matchReservations.pledgeId))
      .innerJoin(partnerOrganisations, eq(partnerOrganisations.id, matchPledges.partnerOrganisationId))
      .where(eq(matchReservations.donationId, donationId)),
    db
      .select({ partnerName: partnerOrganisations.name, amountMinor: sql<number>`sum(${matches.amountMinor})::int8` })
      .from(matches)
      .innerJoin(matchPledges, eq(matchPledges.id, matches.pledgeId))
      .innerJoin(partnerOrganisations, eq(partnerOrganisations.id, matchPledges.partnerOrganisationId))
      .where(eq(matches.donationId, donationId))
      .groupBy(partnerOrganisations.name),
    db.select().from(campaignTotals).where(eq(campaignTotals.campaignId, row.campaignId)),
    db
      .select({ capMinor: matchPledges.capMinor, matchedMinor: matchPledges.matchedMinor })
      .from(matchPledges)
      .where(eq(matchPledges.campaignId, row.campaignId)),
  ])
  return { ...row, reserved, earned: earned.filter((e) => e.amountMinor > 0), totals: totals[0] ?? null, pledges: caps }
}

export type DonationSummary = NonNullable<Awaited<ReturnType<typeof getDonationSummary>>>
