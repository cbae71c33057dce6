// What each queued email says. An outbox row names its template and the cause (e.g. a donation
// id); the facts are read and formatted here when the email is sent, so the row can be queued
// inside a settlement before the match it earns is known (docs/decisions/0301).
import { plainTextSelectors, render } from '@react-email/render'
import { and, eq, sql } from 'drizzle-orm'
import { compile } from 'html-to-text'
import { createElement, type ReactElement } from 'react'
import { z } from 'zod'
import { getAppUrl } from '#app/utils/env.server.ts'
import { giftStanding } from '#app/utils/gift-standing.ts'
import { formatMoneyWithCode } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { campaigns, designations, fiscalPartners, matchPledges, partnerOrganisations } from '#db/schema/catalog.ts'
import { donations, donors, recurringPlans } from '#db/schema/giving.ts'
import { matches } from '#db/schema/matching.ts'
import {
  GiftChanged,
  giftChangeKinds,
  giftChangedSubject,
  type GiftChangedProps,
  GiftReversed,
  giftReversedSubject,
  GiftThankYou,
  giftThankYouSubject,
  type GiftReversedProps,
  type GiftThankYouProps,
} from '#emails/gift-thank-you.tsx'
import {
  MonthlyGiftEnded,
  monthlyGiftEndedSubject,
  monthlyGiftEndReasons,
  MonthlyPaymentFailed,
  monthlyPaymentFailedSubject,
  PaymentFailed,
  paymentFailedSubject,
} from '#emails/payment-notices.tsx'

export class EmailCompositionError extends Error {
  override name = 'EmailCompositionError'
}

const GiftThankYouCauseSchema = z.object({ donationId: z.uuid() })
const GiftChangedCauseSchema = z.object({
  donationId: z.uuid(),
  kind: z.enum(giftChangeKinds),
  amountMinor: z.int().positive(),
  at: z.iso.datetime({ offset: true }),
})

/** `reason`: Stripe's message where it is meant for the payer (a card error), else null. */
const PaymentFailedCauseSchema = z.object({ donationId: z.uuid(), reason: z.string().nullable() })
const MonthlyPaymentFailedCauseSchema = z.object({
  planId: z.uuid(),
  invoiceId: z.string().min(1),
  amountMinor: z.int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  reason: z.string().nullable(),
  dueAt: z.iso.datetime({ offset: true }),
})
const MonthlyGiftEndedCauseSchema = z.object({
  planId: z.uuid(),
  why: z.enum(monthlyGiftEndReasons),
  at: z.iso.datetime({ offset: true }),
})

const templates = {
  'gift-thank-you': { cause: GiftThankYouCauseSchema, compose: composeGiftThankYou },
  'gift-changed': { cause: GiftChangedCauseSchema, compose: composeGiftChanged },
  'payment-failed': { cause: PaymentFailedCauseSchema, compose: composePaymentFailed },
  'monthly-payment-failed': { cause: MonthlyPaymentFailedCauseSchema, compose: composeMonthlyPaymentFailed },
  'monthly-gift-ended': { cause: MonthlyGiftEndedCauseSchema, compose: composeMonthlyGiftEnded },
} satisfies Record<string, { cause: z.ZodType; compose: (exec: Executor, cause: never) => Promise<Composed> }>

export type EmailTemplate = keyof typeof templates
export type EmailCause<T extends EmailTemplate> = z.infer<(typeof templates)[T]['cause']>

export interface Composed {
  subject: string
  element: ReactElement
}

export interface RenderedEmail {
  subject: string
  html: string
  text: string
}

export function isEmailTemplate(name: string): name is EmailTemplate {
  return Object.hasOwn(templates, name)
}

// The plain-text part: React Email's conversion (its selectors, no wrapping), compiled once, from
// the HTML already rendered. render({ plainText: true }) would render the email a second time and
// compile the converter on every call. Headings stay as written, rather than in capitals.
const toPlainText = compile({
  wordwrap: false,
  selectors: [...plainTextSelectors, ...['h1', 'h2'].map((selector) => ({ selector, options: { uppercase: false } }))],
})

/** Reads the facts behind an outbox row and renders its subject, HTML and plain text. */
export async function renderEmail(exec: Executor, template: string, cause: unknown): Promise<RenderedEmail> {
  if (!isEmailTemplate(template)) throw new EmailCompositionError(`unknown email template "${template}"`)
  // Each template's compose takes what its own schema parses, which is what it is given here.
  const { cause: schema, compose } = templates[template] as { cause: z.ZodType; compose: (exec: Executor, cause: unknown) => Promise<Composed> }
  const parsed = schema.safeParse(cause)
  if (!parsed.success) throw new EmailCompositionError(`the ${template} email's cause is malformed: ${z.prettifyError(parsed.error)}`)
  const { subject, element } = await compose(exec, parsed.data)
  const html = await render(element)
  return { subject, html, text: toPlainText(html) }
}

// The time zone each fiscal partner's books and its donors' tax years run in. A gift's date decides
// its tax year (US: 1 January; UK: 6 April; NZ: 1 April), so it is the date where the receiving
// entity is, not in UTC as the ledger records it: a US gift at 11 pm on 31 December in New York is
// 1 January in UTC, the next tax year. A partner missing here fails the email (and it is retried)
// rather than be dated in a zone that may put the gift in the wrong year.
const partnerTimeZones: Record<string, string> = { us: 'America/New_York', uk: 'Europe/London', nz: 'Pacific/Auckland' }

// Dates in the convention of the receiving entity's country.
const locales: Record<string, string> = { US: 'en-US', GB: 'en-GB', NZ: 'en-NZ' }

// Built once per locale and zone: constructing an Intl.DateTimeFormat costs far more than using one.
const dateFormats = new Map<string, { day: Intl.DateTimeFormat; zone: Intl.DateTimeFormat }>()

/** "December 31, 2025 (EST)": the day where the partner is, and the zone, so it reads one way anywhere. */
function giftDate(partnerId: string, country: string, at: Date): string {
  const timeZone = partnerTimeZones[partnerId]
  if (!timeZone) throw new EmailCompositionError(`fiscal partner "${partnerId}" has no time zone to date its gifts in`)
  const locale = locales[country] ?? 'en-US'
  const key = `${locale}|${timeZone}`
  let format = dateFormats.get(key)
  if (!format) {
    format = {
      day: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone }),
      zone: new Intl.DateTimeFormat(locale, { timeZoneName: 'short', timeZone }),
    }
    dateFormats.set(key, format)
  }
  const zone = format.zone.formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? timeZone
  return `${format.day.format(at)} (${zone})`
}

/** The number a UK partner's letters must carry; a UK partner without one is a setup error, not an omission. */
function charityNumberOf(partner: { id: string; country: string; registrationNumbers: Record<string, string> }): string | null {
  if (partner.country !== 'GB') return null
  const number = partner.registrationNumbers.charityNumber?.trim()
  if (!number) throw new EmailCompositionError(`fiscal partner "${partner.id}" has no charityNumber in its registration numbers`)
  return number
}

const campaignUrlOf = (slug: string) => `${getAppUrl()}/campaigns/${slug}`

/** The receiving partner as its emails name it, from the columns below. */
const partnerOf = (row: { partnerId: string; partnerLegalName: string; partnerCountry: string; partnerRegistrationNumbers: Record<string, string> }) => ({
  legalName: row.partnerLegalName,
  country: row.partnerCountry,
  charityNumber: charityNumberOf({ id: row.partnerId, country: row.partnerCountry, registrationNumbers: row.partnerRegistrationNumbers }),
})

const partnerColumns = {
  partnerId: fiscalPartners.id,
  partnerLegalName: fiscalPartners.legalName,
  partnerCountry: fiscalPartners.country,
  partnerRegistrationNumbers: fiscalPartners.registrationNumbers,
}

/** What the email job says for a gift: thanks for what remains of it, or a notice that nothing does. */
type GiftEmail = { kind: 'thanks'; props: GiftThankYouProps } | { kind: 'reversed'; props: GiftReversedProps }

/** A settled gift as its emails describe it, read when the email is sent. */
async function readSettledGift(exec: Executor, donationId: string) {
  const [gift] = await exec
    .select({
      frequency: donations.frequency,
      installment: donations.installment,
      amountMinor: donations.amountMinor,
      feeCoveredMinor: donations.feeCoveredMinor,
      chargedMinor: donations.chargedMinor,
      refundedMinor: donations.refundedMinor,
      disputedMinor: donations.disputedMinor,
      currency: donations.currency,
      anonymous: donations.anonymous,
      tributeType: donations.tributeType,
      tributeName: donations.tributeName,
      settledAt: donations.settledAt,
      donorName: donations.donorName,
      campaignTitle: campaigns.title,
      campaignSlug: campaigns.slug,
      campaignCurrency: campaigns.currency,
      designation: designations.name,
      ...partnerColumns,
    })
    .from(donations)
    .innerJoin(donors, eq(donors.id, donations.donorId))
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .innerJoin(designations, eq(designations.id, donations.designationId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, donations.fiscalPartnerId))
    .where(eq(donations.id, donationId))
  if (!gift) throw new EmailCompositionError(`donation ${donationId} does not exist`)
  const { settledAt } = gift
  if (!settledAt) throw new EmailCompositionError(`donation ${donationId} has not settled`)
  return {
    ...gift,
    settledAt,
    partner: partnerOf(gift),
    standing: giftStanding(gift),
    money: (amountMinor: number) => formatMoneyWithCode(amountMinor, gift.currency),
    /** The day where the partner is, with its zone. */
    dated: (at: Date) => giftDate(gift.partnerId, gift.partnerCountry, at),
  }
}

async function getGiftEmail(exec: Executor, donationId: string): Promise<GiftEmail> {
  const gift = await readSettledGift(exec, donationId)
  // Read when sending, so a refund or a dispute that came first is already here.
  const { partner, standing } = gift
  const settledOn = gift.dated(gift.settledAt)
  if (standing.remainingMinor === 0 && standing.removed) {
    const { charged, refunded, disputed } = standing.removed
    return { kind: 'reversed', props: { donorName: gift.donorName, charged, refunded, disputed, campaignTitle: gift.campaignTitle, partner, settledOn } }
  }
  // Net of reversals: a gift refunded before its thank-you went out no longer claims the match.
  const earned = await exec
    .select({ partner: partnerOrganisations.name, amountMinor: sql<number>`sum(${matches.amountMinor})::int8` })
    .from(matches)
    .innerJoin(matchPledges, eq(matchPledges.id, matches.pledgeId))
    .innerJoin(partnerOrganisations, eq(partnerOrganisations.id, matchPledges.partnerOrganisationId))
    .where(eq(matches.donationId, donationId))
    .groupBy(partnerOrganisations.id, partnerOrganisations.name)
    .orderBy(sql`min(${matchPledges.priority})`)
  return {
    kind: 'thanks',
    props: {
      donorName: gift.donorName,
      // The whole charge is the donor's gift, the card fee they chose to cover included.
      amount: standing.remaining,
      feeCovered: standing.feeCovered,
      removed: standing.removed,
      campaignTitle: gift.campaignTitle,
      campaignUrl: campaignUrlOf(gift.campaignSlug),
      designation: gift.designation,
      matches: earned
        .filter((m) => m.amountMinor > 0)
        .map((m) => ({ partner: m.partner, amount: formatMoneyWithCode(m.amountMinor, gift.campaignCurrency) })),
      monthly: gift.frequency === 'monthly',
      installment: gift.installment,
      partner,
      settledOn,
      tribute: gift.tributeType && gift.tributeName ? { type: gift.tributeType, name: gift.tributeName } : null,
      anonymous: gift.anonymous,
    },
  }
}

async function getGiftChangedProps(exec: Executor, cause: z.infer<typeof GiftChangedCauseSchema>): Promise<GiftChangedProps> {
  const gift = await readSettledGift(exec, cause.donationId)
  return {
    donorName: gift.donorName,
    campaignTitle: gift.campaignTitle,
    partner: gift.partner,
    kind: cause.kind,
    amount: gift.money(cause.amountMinor),
    on: gift.dated(new Date(cause.at)),
    charged: gift.standing.charged,
    remaining: gift.standing.remaining,
    nothingRemains: gift.standing.remainingMinor === 0,
  }
}

async function composeGiftChanged(exec: Executor, cause: z.infer<typeof GiftChangedCauseSchema>): Promise<Composed> {
  const props = await getGiftChangedProps(exec, cause)
  return { subject: giftChangedSubject(props), element: createElement(GiftChanged, props) }
}

async function composeGiftThankYou(exec: Executor, cause: z.infer<typeof GiftThankYouCauseSchema>): Promise<Composed> {
  const email = await getGiftEmail(exec, cause.donationId)
  // A gift of which nothing remains gets a notice saying so instead of a thank-you: the donor still
  // hears what became of their payment, and nothing reads as a gift for tax (docs/decisions/0301).
  if (email.kind === 'reversed') return { subject: giftReversedSubject(email.props), element: createElement(GiftReversed, email.props) }
  return { subject: giftThankYouSubject(email.props), element: createElement(GiftThankYou, email.props) }
}

// Payments that did not arrive (emails/payment-notices.tsx).

async function composePaymentFailed(exec: Executor, cause: z.infer<typeof PaymentFailedCauseSchema>): Promise<Composed> {
  const [gift] = await exec
    .select({
      donorName: donations.donorName,
      chargedMinor: donations.chargedMinor,
      currency: donations.currency,
      frequency: donations.frequency,
      createdAt: donations.createdAt,
      campaignTitle: campaigns.title,
      campaignSlug: campaigns.slug,
      ...partnerColumns,
    })
    .from(donations)
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, donations.fiscalPartnerId))
    .where(eq(donations.id, cause.donationId))
  if (!gift) throw new EmailCompositionError(`donation ${cause.donationId} does not exist`)
  const props = {
    donorName: gift.donorName,
    campaignTitle: gift.campaignTitle,
    campaignUrl: campaignUrlOf(gift.campaignSlug),
    partner: partnerOf(gift),
    amount: formatMoneyWithCode(gift.chargedMinor, gift.currency),
    givenOn: giftDate(gift.partnerId, gift.partnerCountry, gift.createdAt),
    reason: cause.reason,
    monthly: gift.frequency === 'monthly',
  }
  return { subject: paymentFailedSubject(props), element: createElement(PaymentFailed, props) }
}

/** A monthly gift's plan as its notices describe it: the donor's name as they gave it at checkout. */
async function readPlan(exec: Executor, planId: string) {
  const [plan] = await exec
    .select({
      currency: recurringPlans.currency,
      // As given with the first payment, at checkout.
      donorName: sql<string>`(select ${donations.donorName} from ${donations} where ${donations.recurringPlanId} = ${recurringPlans.id} and ${donations.installment} = 1)`,
      campaignTitle: campaigns.title,
      campaignSlug: campaigns.slug,
      ...partnerColumns,
    })
    .from(recurringPlans)
    .innerJoin(campaigns, eq(campaigns.id, recurringPlans.campaignId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, recurringPlans.fiscalPartnerId))
    .where(eq(recurringPlans.id, planId))
  if (!plan) throw new EmailCompositionError(`monthly gift ${planId} does not exist`)
  return {
    ...plan,
    frame: { donorName: plan.donorName, campaignTitle: plan.campaignTitle, campaignUrl: campaignUrlOf(plan.campaignSlug), partner: partnerOf(plan) },
    dated: (at: Date) => giftDate(plan.partnerId, plan.partnerCountry, at),
  }
}

async function composeMonthlyPaymentFailed(exec: Executor, cause: z.infer<typeof MonthlyPaymentFailedCauseSchema>): Promise<Composed> {
  const plan = await readPlan(exec, cause.planId)
  const props = {
    ...plan.frame,
    amount: formatMoneyWithCode(cause.amountMinor, cause.currency),
    dueOn: plan.dated(new Date(cause.dueAt)),
    reason: cause.reason,
  }
  return { subject: monthlyPaymentFailedSubject(props), element: createElement(MonthlyPaymentFailed, props) }
}

async function composeMonthlyGiftEnded(exec: Executor, cause: z.infer<typeof MonthlyGiftEndedCauseSchema>): Promise<Composed> {
  const plan = await readPlan(exec, cause.planId)
  const paid = await exec
    .select({
      currency: donations.currency,
      amountMinor: donations.amountMinor,
      feeCoveredMinor: donations.feeCoveredMinor,
      chargedMinor: donations.chargedMinor,
      refundedMinor: donations.refundedMinor,
      disputedMinor: donations.disputedMinor,
    })
    .from(donations)
    .where(and(eq(donations.recurringPlanId, cause.planId), eq(donations.status, 'succeeded')))
  // Counted by the rule the thank-you uses: a payment refunded or taken back in full is no gift.
  const remaining = paid.map((payment) => giftStanding(payment).remainingMinor).filter((minor) => minor > 0)
  const props = {
    ...plan.frame,
    endedOn: plan.dated(new Date(cause.at)),
    why: cause.why,
    payments: remaining.length,
    given: formatMoneyWithCode(remaining.reduce((sum, minor) => sum + minor, 0), plan.currency),
  }
  return { subject: monthlyGiftEndedSubject(props), element: createElement(MonthlyGiftEnded, props) }
}
