// explainMatch: why a gift got the match it got, in words a donor or finance can follow.
import { asc, eq } from 'drizzle-orm'
import { formatMoney, isCurrency } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { campaigns } from '#db/schema/catalog.ts'
import { donations } from '#db/schema/giving.ts'
import { matchReservations, matches } from '#db/schema/matching.ts'
import { ineligibility, isLocked, type Ineligibility } from './match-rules.ts'
import { readPledges } from './match-store.server.ts'

const reasons: Record<Ineligibility, string> = {
  closed: 'the pledge has closed and matches nothing more',
  outside_window: "the gift was made outside the pledge's dates",
  designation_not_covered: "the pledge does not cover the gift's designation",
  installment_not_matched: 'the pledge matches only the first payments of a monthly gift',
}

export async function explainMatch(exec: Executor, donationId: string): Promise<string[] | null> {
  const [row] = await exec
    .select({ donation: donations, campaignTitle: campaigns.title, campaignCurrency: campaigns.currency })
    .from(donations)
    .innerJoin(campaigns, eq(campaigns.id, donations.campaignId))
    .where(eq(donations.id, donationId))
  if (!row) return null
  const { donation: d, campaignCurrency } = row
  const money = (amount: number, currency: string) => (isCurrency(currency) ? formatMoney(amount, currency) : `${amount} ${currency}`)
  const lines: string[] = []

  const value = money(d.campaignAmountMinor, campaignCurrency)
  const rate =
    d.currency === campaignCurrency
      ? ''
      : ` (${d.currency}→${campaignCurrency} at ${d.campaignFxRate}, ${d.campaignFxSource === 'stripe' ? "Stripe's settlement rate" : "finance's dated rate"})`
  lines.push(
    `${d.frequency === 'monthly' ? `Monthly payment ${d.installment}` : 'Gift'} of ${money(d.amountMinor, d.currency)} to "${row.campaignTitle}", counted as ${value}${rate}; status ${d.status}.`,
  )
  if (d.feeCoveredMinor > 0) lines.push(`The donor also covered ${money(d.feeCoveredMinor, d.currency)} of card fees, which is never matched.`)

  const pledges = await readPledges(exec, d.campaignId)
  const terms = { madeAt: d.createdAt, designationId: d.designationId, installment: d.installment }
  for (const p of pledges) {
    const why = ineligibility(p, terms)
    const header = `${p.partnerName} (${p.ratioNum}:${p.ratioDen}, cap ${money(p.capMinor, p.currency)}, ${money(p.capMinor - p.matchedMinor - p.reservedMinor, p.currency)} free now)`
    if (why) lines.push(`${header}: not eligible, because ${reasons[why]}.`)
    else if (isLocked(p)) lines.push(`${header}: a challenge not yet unlocked; it matches waiting gifts once the campaign reaches its target.`)
    else lines.push(`${header}: eligible${p.perGiftMaxMinor ? `, up to ${money(p.perGiftMaxMinor, p.currency)} per gift` : ''}${p.perDonorMaxMinor ? `, up to ${money(p.perDonorMaxMinor, p.currency)} per donor` : ''}.`)
  }

  const holds = await exec.select().from(matchReservations).where(eq(matchReservations.donationId, donationId)).orderBy(asc(matchReservations.id))
  for (const h of holds) {
    const partner = pledges.find((p) => p.id === h.pledgeId)?.partnerName ?? `pledge ${h.pledgeId}`
    lines.push(`At checkout ${money(h.amountMinor, campaignCurrency)} of ${partner}'s cap was reserved until ${h.expiresAt.toISOString()}: ${h.status}.`)
  }
  const rows = await exec.select().from(matches).where(eq(matches.donationId, donationId)).orderBy(asc(matches.id))
  for (const m of rows) lines.push(`${m.createdAt.toISOString().slice(0, 10)} ${m.amountMinor > 0 ? '+' : '−'}${money(Math.abs(m.amountMinor), campaignCurrency)}: ${m.note}`)
  const net = rows.reduce((sum, m) => sum + m.amountMinor, 0)
  if (d.status === 'succeeded') {
    lines.push(`Net match: ${money(net, campaignCurrency)}.${d.matchShortfallMinor > 0 ? ` ${money(d.matchShortfallMinor, campaignCurrency)} of the gift is waiting for freed cap and will be matched first if any frees up.` : ''}`)
  } else if (holds.length === 0 && pledges.length > 0 && d.status === 'pending') {
    lines.push('Nothing is reserved for this gift.')
  }
  return lines
}
