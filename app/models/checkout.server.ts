// Creating a checkout: the gift is priced on the server (the browser never sends a trusted
// total), recorded as a pending donation with its match reserved, and only then sent to the
// chosen fiscal partner's Stripe account as a hosted Checkout Session. No transaction is held
// open across the call to Stripe; the idempotency key is derived from the donation id, so a
// retried create can never make a second session.
import { and, eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import type { DonationFormValues } from '#app/utils/donation-form.ts'
import { choosePartner, type PartnerChoice } from '#app/utils/fiscal-partner-choice.ts'
import { db } from '#app/utils/db.server.ts'
import { getAppUrl } from '#app/utils/env.server.ts'
import { giftAidApplies, giftAidDeclaration, giftAidWordingVersion } from '#app/utils/gift-aid.ts'
import { convertMinor, donationLimits, formatMoney, grossUpForFee, type Currency } from '#app/utils/money.ts'
import { newResumeToken, tokenMatches } from '#app/utils/resume-cookie.server.ts'
import { getStripe } from '#app/utils/stripe.server.ts'
import { campaigns, designations, fiscalPartnerFees, fiscalPartners } from '#db/schema/catalog.ts'
import { donations, donors, giftAidDeclarations, recurringPlans } from '#db/schema/giving.ts'
import { endCheckout } from './gift-events.server.ts'
import { reserveMatch } from './matching.server.ts'
import { tableRate } from './fx-rates.server.ts'

/** Stripe's shortest session life is 30 minutes; the match is held a little longer for late webhooks. */
export const checkoutLifetimeMs = 31 * 60_000
export const reservationGraceMs = 5 * 60_000

export interface GiftAidInput {
  title: string | null
  firstName: string
  lastName: string
  houseNameOrNumber: string
  addressLine: string
  postcode: string
}

export interface CheckoutRequest {
  campaignSlug: string
  amountMinor: number
  currency: Currency
  frequency: 'one_off' | 'monthly'
  designationId: string
  coverFee: boolean
  tribute: { type: 'honour' | 'memory'; name: string } | null
  anonymous: boolean
  name: string
  email: string
  country: string
  partnerChoice: PartnerChoice
  giftAid: GiftAidInput | null
  now?: Date
}

export type CheckoutResult =
  /** `resumeToken` goes to the donor's browser only (app/utils/resume-cookie.server.ts). */
  | { ok: true; donationId: string; resumeToken: string }
  | { ok: false; status: 400 | 404 | 409 | 502; field?: string; error: string }

export interface Pricing {
  fiscalPartnerId: 'us' | 'uk' | 'nz'
  partnerReason: string
  amountMinor: number
  feeCoveredMinor: number
  chargedMinor: number
}

/** The exact charge for a gift: the gift, plus the partner's estimated fee when the donor covers it. */
export async function priceGift(request: Pick<CheckoutRequest, 'amountMinor' | 'currency' | 'coverFee' | 'country' | 'partnerChoice'>): Promise<Pricing> {
  const { partnerId, reason } = choosePartner(request.country, request.partnerChoice)
  let fee = 0
  if (request.coverFee) {
    const [estimate] = await db
      .select({ percentBps: fiscalPartnerFees.percentBps, fixedMinor: fiscalPartnerFees.fixedMinor })
      .from(fiscalPartnerFees)
      .where(and(eq(fiscalPartnerFees.fiscalPartnerId, partnerId), eq(fiscalPartnerFees.currency, request.currency)))
    if (estimate) fee = grossUpForFee(request.amountMinor, estimate).feeMinor
  }
  return { fiscalPartnerId: partnerId, partnerReason: reason, amountMinor: request.amountMinor, feeCoveredMinor: fee, chargedMinor: request.amountMinor + fee }
}

export async function createCheckout(request: CheckoutRequest): Promise<CheckoutResult> {
  const now = request.now ?? new Date()
  const limits = donationLimits[request.currency]
  if (request.amountMinor < limits.minMinor || request.amountMinor > limits.maxMinor) {
    return { ok: false, status: 400, field: 'customAmount', error: `Gifts in ${request.currency} must be between ${formatMoney(limits.minMinor, request.currency)} and ${formatMoney(limits.maxMinor, request.currency)}.` }
  }
  const [campaign] = await db
    .select({ id: campaigns.id, title: campaigns.title, currency: campaigns.currency, status: campaigns.status, startsAt: campaigns.startsAt, endsAt: campaigns.endsAt })
    .from(campaigns)
    .where(eq(campaigns.slug, request.campaignSlug))
  if (!campaign || campaign.status === 'draft') return { ok: false, status: 404, error: 'We could not find that campaign.' }
  if (campaign.status !== 'live' || now < campaign.startsAt || now >= campaign.endsAt) {
    return { ok: false, status: 409, error: 'This campaign is not taking gifts right now.' }
  }
  const [designation] = await db.select({ id: designations.id, name: designations.name }).from(designations).where(eq(designations.id, request.designationId))
  if (!designation) return { ok: false, status: 400, field: 'designationId', error: 'Choose what your gift funds.' }

  const pricing = await priceGift(request)
  const [partner] = await db.select({ legalName: fiscalPartners.legalName }).from(fiscalPartners).where(eq(fiscalPartners.id, pricing.fiscalPartnerId))
  if (!partner) return { ok: false, status: 409, error: 'Gifts from your country cannot be received right now.' }
  if (request.giftAid && !giftAidApplies(pricing.fiscalPartnerId, request.currency)) {
    return { ok: false, status: 400, field: 'giftAid', error: 'Gift Aid applies to gifts in pounds to LIFT International UK.' }
  }
  const rate = request.currency === campaign.currency ? '1' : await tableRate(db, request.currency, campaign.currency, now)
  if (!rate) return { ok: false, status: 409, field: 'currency', error: `This campaign cannot take ${request.currency} gifts today. Please choose ${campaign.currency}.` }

  const sessionExpiresAt = new Date(now.getTime() + checkoutLifetimeMs)
  const resume = newResumeToken()
  const { donationId, planId } = await db.transaction(async (tx) => {
    const [donor] = await tx
      .insert(donors)
      .values({ email: request.email.toLowerCase(), name: request.name, country: request.country })
      // Anyone can type anyone's email, so an unpaid checkout must not change an existing donor:
      // the name travels with the donation instead. (The no-op update makes RETURNING give the id.)
      .onConflictDoUpdate({ target: donors.email, set: { email: sql`excluded.email` } })
      .returning({ id: donors.id })
    const money = { amountMinor: pricing.amountMinor, feeCoveredMinor: pricing.feeCoveredMinor, chargedMinor: pricing.chargedMinor, currency: request.currency }
    const place = { campaignId: campaign.id, donorId: donor!.id, fiscalPartnerId: pricing.fiscalPartnerId, designationId: designation.id }
    const [plan] =
      request.frequency === 'monthly' ? await tx.insert(recurringPlans).values({ ...place, ...money }).returning({ id: recurringPlans.id }) : []
    const [donation] = await tx
      .insert(donations)
      .values({
        ...place,
        ...money,
        frequency: request.frequency,
        recurringPlanId: plan?.id ?? null,
        campaignAmountMinor: convertMinor(pricing.amountMinor, rate),
        campaignFxRate: rate,
        campaignFxSource: rate === '1' ? 'identity' : 'table',
        tributeType: request.tribute?.type ?? null,
        tributeName: request.tribute?.name ?? null,
        anonymous: request.anonymous,
        donorName: request.name,
        donorCountry: request.country,
        checkoutExpiresAt: sessionExpiresAt,
        resumeTokenHash: resume.hash,
        createdAt: now,
      })
      .returning({ id: donations.id })
    if (request.giftAid) {
      const scope = request.frequency === 'monthly' ? 'enduring' : 'single'
      await tx.insert(giftAidDeclarations).values({
        donationId: donation!.id,
        donorId: donor!.id,
        fiscalPartnerId: pricing.fiscalPartnerId,
        scope,
        wordingVersion: giftAidWordingVersion,
        wordingText: giftAidDeclaration({ scope, amount: formatMoney(pricing.chargedMinor, request.currency), charity: partner.legalName }),
        ...request.giftAid,
        declaredAt: now,
      })
    }
    await reserveMatch(tx, { donationId: donation!.id, expiresAt: new Date(sessionExpiresAt.getTime() + reservationGraceMs), now })
    return { donationId: donation!.id, planId: plan?.id ?? null }
  })

  let session: Stripe.Checkout.Session
  try {
    session = await getStripe(pricing.fiscalPartnerId).checkout.sessions.create(
      sessionParams({ request, pricing, campaign, designationName: designation.name, donationId, planId, expiresAt: sessionExpiresAt }),
      { idempotencyKey: `checkout:${donationId}` },
    )
  } catch (error) {
    await db.transaction((tx) =>
      endCheckout(tx, donationId, { status: 'failed', reason: `checkout could not be created: ${error instanceof Error ? error.message : 'unknown error'}`, at: new Date() }),
    )
    return { ok: false, status: 502, error: 'We could not reach our payment processor. Nothing was charged; please try again in a moment.' }
  }
  await db
    .update(donations)
    .set({ checkoutSessionId: session.id, checkoutUrl: session.url, checkoutExpiresAt: new Date(session.expires_at * 1000) })
    .where(eq(donations.id, donationId))
  return { ok: true, donationId, resumeToken: resume.token }
}

function sessionParams({
  request,
  pricing,
  campaign,
  designationName,
  donationId,
  planId,
  expiresAt,
}: {
  request: CheckoutRequest
  pricing: Pricing
  campaign: { id: number; title: string }
  designationName: string
  donationId: string
  planId: string | null
  expiresAt: Date
}): Stripe.Checkout.SessionCreateParams {
  const appUrl = getAppUrl()
  const monthly = request.frequency === 'monthly'
  const currency = request.currency.toLowerCase()
  const recurring = monthly ? { recurring: { interval: 'month' as const } } : {}
  const metadata: Record<string, string> = {
    donation_id: donationId,
    campaign_id: String(campaign.id),
    designation_id: request.designationId,
    fiscal_partner_id: pricing.fiscalPartnerId,
    ...(planId ? { recurring_plan_id: planId } : {}),
  }
  const lineItems: Stripe.Checkout.SessionCreateParams.LineItem[] = [
    {
      quantity: 1,
      price_data: {
        currency,
        unit_amount: pricing.amountMinor,
        product_data: { name: `${monthly ? 'Monthly gift' : 'Gift'} to ${campaign.title}`.slice(0, 250), description: `Designated to ${designationName}` },
        ...recurring,
      },
    },
  ]
  if (pricing.feeCoveredMinor > 0) {
    lineItems.push({
      quantity: 1,
      price_data: { currency, unit_amount: pricing.feeCoveredMinor, product_data: { name: 'Card fees you chose to cover (part of your gift)' }, ...recurring },
    })
  }
  return {
    mode: monthly ? 'subscription' : 'payment',
    submit_type: 'donate',
    line_items: lineItems,
    client_reference_id: donationId,
    customer_email: request.email,
    metadata,
    ...(monthly
      ? { subscription_data: { metadata, description: `Monthly gift to ${campaign.title}` } }
      : { payment_intent_data: { metadata, description: `Gift to ${campaign.title}` } }),
    success_url: `${appUrl}/donations/${donationId}/thanks?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${appUrl}/donations/${donationId}/cancel`,
    expires_at: Math.floor(expiresAt.getTime() / 1000),
  }
}

/**
 * The donor went back from Stripe's page: end that session, free the match, keep their answers.
 * Only a checkout not yet paid can be ended here: a bank debit already processing (the donor paid
 * in another tab, or came back to a review page loaded earlier) keeps its gift and its match hold,
 * and the donor is shown that gift instead. When Stripe cannot be reached, nothing changes.
 * Only the browser that started the checkout (it holds the resume secret, `token`) ends it:
 * anyone else with the link, which is a plain GET, is sent to the form and the checkout stays open
 * until it expires.
 */
export async function cancelCheckout(
  donationId: string,
  token: string | null,
): Promise<{ campaignSlug: string; outcome: 'canceled' | 'paid' | 'unavailable' | 'not-theirs' } | null> {
  const [row] = await db
    .select({
      status: donations.status,
      sessionId: donations.checkoutSessionId,
      fiscalPartnerId: donations.fiscalPartnerId,
      resumeTokenHash: donations.resumeTokenHash,
      slug: campaigns.slug,
    })
    .from(donations)
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .where(eq(donations.id, donationId))
  if (!row) return null
  const answer = (outcome: 'canceled' | 'paid' | 'unavailable' | 'not-theirs') => ({ campaignSlug: row.slug, outcome })
  if (row.status === 'processing' || row.status === 'succeeded') return answer('paid')
  if (!tokenMatches(token, row.resumeTokenHash)) return answer('not-theirs')
  let ended: 'canceled' | 'expired' = 'canceled'
  if (row.status === 'pending' && row.sessionId) {
    const stripe = getStripe(row.fiscalPartnerId as 'us' | 'uk' | 'nz')
    try {
      await stripe.checkout.sessions.expire(row.sessionId)
    } catch {
      // Stripe expires only an open session: ask it how this one ended (its webhook will say so too).
      const session = await stripe.checkout.sessions.retrieve(row.sessionId).catch(() => null)
      if (session?.status === 'complete') return answer('paid')
      if (session?.status !== 'expired') return answer('unavailable')
      ended = 'expired'
    }
  }
  // The session can no longer be paid, so ending the gift cannot race a payment. One already
  // failed, expired or cancelled stays as it is.
  await db.transaction((tx) => endCheckout(tx, donationId, { status: ended, at: new Date() }))
  return answer('canceled')
}

/**
 * A checkout that did not complete, as form values, so the donor can pick up where they were. The
 * gift's shape comes back to anyone with the link; the donor's name, email, tribute and Gift Aid
 * address only to the browser holding the checkout's resume secret (`token`).
 */
export async function getResumeValues(donationId: string, token: string | null, campaignSlug: string): Promise<DonationFormValues | null> {
  // Only on its own campaign's page: another campaign may not offer the gift's designation.
  const [row] = await db
    .select({ donation: donations, donorName: donations.donorName, donorEmail: donors.email })
    .from(donations)
    .innerJoin(donors, eq(donors.id, donations.donorId))
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .where(and(eq(donations.id, donationId), eq(campaigns.slug, campaignSlug)))
  if (!row || row.donation.status === 'succeeded' || row.donation.status === 'processing') return null
  const d = row.donation
  const theirs = tokenMatches(token, d.resumeTokenHash)
  const [declaration] = theirs ? await db.select().from(giftAidDeclarations).where(eq(giftAidDeclarations.donationId, donationId)) : []
  const cents = d.amountMinor % 100
  return {
    customAmount: `${Math.floor(d.amountMinor / 100)}${cents ? `.${String(cents).padStart(2, '0')}` : ''}`,
    amountPreset: 'custom',
    currency: d.currency,
    frequency: d.frequency,
    designationId: d.designationId,
    coverFee: d.feeCoveredMinor > 0 ? 'on' : undefined,
    tributeType: d.tributeType ?? 'none',
    tributeName: theirs ? (d.tributeName ?? '') : '',
    anonymous: d.anonymous ? 'on' : undefined,
    name: theirs ? row.donorName : '',
    email: theirs ? row.donorEmail : '',
    country: d.donorCountry,
    // An entity picked for the donor's country comes back as "auto", so changing the country
    // on the resumed form still changes the entity; only a donor's own choice stays pinned.
    partner: choosePartner(d.donorCountry, 'auto').partnerId === d.fiscalPartnerId ? 'auto' : d.fiscalPartnerId,
    ...(declaration
      ? {
          giftAid: 'on',
          giftAidTitle: declaration.title ?? '',
          giftAidFirstName: declaration.firstName,
          giftAidLastName: declaration.lastName,
          giftAidHouse: declaration.houseNameOrNumber,
          giftAidAddress: declaration.addressLine,
          giftAidPostcode: declaration.postcode,
        }
      : {}),
  }
}
