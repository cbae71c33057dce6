// What each queued email says. An outbox row names its template and the cause (e.g. a donation
// id); the facts are read and formatted here when the email is sent, so the row can be queued
// inside a settlement before the match it earns is known (docs/decisions/0301).
import { plainTextSelectors, render } from '@react-email/render'
import { eq, sql } from 'drizzle-orm'
import { compile } from 'html-to-text'
import { createElement, type ReactElement } from 'react'
import { z } from 'zod'
import { getAppUrl } from '#app/utils/env.server.ts'
import { formatMoney, isCurrency } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { campaigns, designations, fiscalPartners, matchPledges, partnerOrganisations } from '#db/schema/catalog.ts'
import { donations, donors } from '#db/schema/giving.ts'
import { matches } from '#db/schema/matching.ts'
import { GiftThankYou, giftThankYouSubject, type GiftThankYouProps } from '#emails/gift-thank-you.tsx'

export class EmailCompositionError extends Error {
  override name = 'EmailCompositionError'
}

const GiftThankYouCauseSchema = z.object({ donationId: z.uuid() })

const templates = {
  'gift-thank-you': { cause: GiftThankYouCauseSchema, compose: composeGiftThankYou },
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
  const { cause: schema, compose } = templates[template]
  const parsed = schema.safeParse(cause)
  if (!parsed.success) throw new EmailCompositionError(`the ${template} email's cause is malformed: ${z.prettifyError(parsed.error)}`)
  const { subject, element } = await compose(exec, parsed.data)
  const html = await render(element)
  return { subject, html, text: toPlainText(html) }
}

const withCode = (amountMinor: number, currency: string) =>
  isCurrency(currency) ? `${formatMoney(amountMinor, currency)} ${currency}` : `${amountMinor} ${currency} minor units`

// Dates in the convention of the receiving entity's country; UTC, as the ledger records them.
// Built once per locale: constructing an Intl.DateTimeFormat costs far more than using one.
const locales: Record<string, string> = { US: 'en-US', GB: 'en-GB', NZ: 'en-NZ' }
const dateFormats = new Map<string, Intl.DateTimeFormat>()
function longDate(country: string, at: Date): string {
  const locale = locales[country] ?? 'en-US'
  let format = dateFormats.get(locale)
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' })
    dateFormats.set(locale, format)
  }
  return format.format(at)
}

export async function getGiftThankYouProps(exec: Executor, donationId: string): Promise<GiftThankYouProps> {
  const [gift] = await exec
    .select({
      frequency: donations.frequency,
      installment: donations.installment,
      amountMinor: donations.amountMinor,
      feeCoveredMinor: donations.feeCoveredMinor,
      chargedMinor: donations.chargedMinor,
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
      partnerLegalName: fiscalPartners.legalName,
      partnerCountry: fiscalPartners.country,
    })
    .from(donations)
    .innerJoin(donors, eq(donors.id, donations.donorId))
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .innerJoin(designations, eq(designations.id, donations.designationId))
    .innerJoin(fiscalPartners, eq(fiscalPartners.id, donations.fiscalPartnerId))
    .where(eq(donations.id, donationId))
  if (!gift) throw new EmailCompositionError(`donation ${donationId} does not exist`)
  if (!gift.settledAt) throw new EmailCompositionError(`donation ${donationId} has not settled`)
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
    donorName: gift.donorName,
    amount: withCode(gift.amountMinor, gift.currency),
    feeCovered: gift.feeCoveredMinor > 0 ? { fee: withCode(gift.feeCoveredMinor, gift.currency), total: withCode(gift.chargedMinor, gift.currency) } : null,
    campaignTitle: gift.campaignTitle,
    campaignUrl: `${getAppUrl()}/campaigns/${gift.campaignSlug}`,
    designation: gift.designation,
    matches: earned.filter((m) => m.amountMinor > 0).map((m) => ({ partner: m.partner, amount: withCode(m.amountMinor, gift.campaignCurrency) })),
    monthly: gift.frequency === 'monthly',
    installment: gift.installment,
    fiscalPartnerLegalName: gift.partnerLegalName,
    settledOn: longDate(gift.partnerCountry, gift.settledAt),
    tribute: gift.tributeType && gift.tributeName ? { type: gift.tributeType, name: gift.tributeName } : null,
    anonymous: gift.anonymous,
  }
}

async function composeGiftThankYou(exec: Executor, cause: z.infer<typeof GiftThankYouCauseSchema>): Promise<Composed> {
  const props = await getGiftThankYouProps(exec, cause.donationId)
  return { subject: giftThankYouSubject(props), element: createElement(GiftThankYou, props) }
}
