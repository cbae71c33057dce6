// Between the form and Stripe: the exact charge, the match reserved for this gift (or why only
// part of it, or none, can be matched), and which LIFT entity receives it and why — all
// before the donor is sent to pay.
import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { RouteError } from '#app/components/route-error.tsx'
import { z } from 'zod'
import { getDonationSummary } from '#app/models/donations.server.ts'
import { choosePartner } from '#app/utils/fiscal-partner-choice.ts'
import { formatMoney, isCurrency, type Currency } from '#app/utils/money.ts'

const ParamsSchema = z.object({ donationId: z.uuid() })

export async function loader({ params }: LoaderFunctionArgs) {
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success) throw new Response('Gift not found', { status: 404 })
  const gift = await getDonationSummary(parsed.data.donationId)
  if (!gift) throw new Response('Gift not found', { status: 404 })
  if (gift.status !== 'pending') throw redirect(`/donations/${gift.id}/thanks`)
  if (!gift.checkoutUrl) throw new Response('This checkout could not be created', { status: 409 })
  const currency = gift.currency as Currency
  const campaignCurrency = (isCurrency(gift.campaignCurrency) ? gift.campaignCurrency : 'USD') as Currency
  const auto = choosePartner(gift.donorCountry, 'auto')
  const held = gift.reserved.filter((r) => r.status === 'held')
  return {
    id: gift.id,
    campaign: { slug: gift.campaignSlug, title: gift.campaignTitle },
    monthly: gift.frequency === 'monthly',
    gift: formatMoney(gift.amountMinor, currency),
    fee: gift.feeCoveredMinor > 0 ? formatMoney(gift.feeCoveredMinor, currency) : null,
    total: formatMoney(gift.chargedMinor, currency),
    converted: currency === campaignCurrency ? null : formatMoney(gift.campaignAmountMinor, campaignCurrency),
    designation: gift.designationName,
    tribute: gift.tributeType ? `${gift.tributeType === 'honour' ? 'In honour of' : 'In memory of'} ${gift.tributeName}` : null,
    anonymous: gift.anonymous,
    giftAidWording: gift.giftAidWording,
    partner: gift.partnerLegalName,
    partnerReason: auto.partnerId === gift.fiscalPartnerId ? auto.reason : 'you chose it',
    matches: held.map((r) => ({ partner: r.partnerName, amount: formatMoney(r.amountMinor, campaignCurrency) })),
    // Whether the whole gift is matched is about the part of the gift covered, not the match
    // amount: at 2:1 the match exceeds a half-matched gift, at 1:2 it is half a fully matched one.
    matchedAll: held.reduce((sum, r) => sum + r.portionMinor, 0) >= gift.campaignAmountMinor,
    hasPledges: gift.pledges.length > 0,
    heldUntil: held[0]?.expiresAt.toISOString() ?? null,
    checkoutUrl: gift.checkoutUrl,
  }
}

export const meta: MetaFunction = () => [{ title: 'Check your gift · LIFT International' }]

export default function ReviewGift() {
  const r = useLoaderData<typeof loader>()
  const time = r.heldUntil ? new Date(r.heldUntil).toLocaleTimeString('en', { hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }) : null
  return (
    <section className="card review">
      <h1>Check your gift</h1>
      <p>
        {r.monthly ? 'A monthly gift' : 'A gift'} of <strong>{r.gift}</strong>
        {r.monthly ? ' each month' : ''} to <Link to={`/campaigns/${r.campaign.slug}`}>{r.campaign.title}</Link>, for {r.designation}.
      </p>
      <dl className="review__lines">
        <div>
          <dt>Your gift</dt>
          <dd>{r.gift}</dd>
        </div>
        {r.fee ? (
          <div>
            <dt>Card fees you chose to cover</dt>
            <dd>{r.fee}</dd>
          </div>
        ) : null}
        <div>
          <dt>{r.monthly ? 'Charged each month' : 'Charged today'}</dt>
          <dd>
            <strong>{r.total}</strong>
          </dd>
        </div>
      </dl>
      {r.fee ? <p className="hint">The whole charge is your gift: the extra means LIFT receives {r.gift} after card fees.</p> : null}

      <h2>Matching</h2>
      {r.matches.length > 0 ? (
        <ul className="review__matches">
          {r.matches.map((m) => (
            <li key={m.partner}>
              <strong>{m.partner}</strong> will add <strong>{m.amount}</strong>
              {r.converted ? ` (your gift counts as ${r.converted})` : ''}.
            </li>
          ))}
        </ul>
      ) : null}
      {r.matches.length > 0 && !r.matchedAll ? (
        <p className="notice">Only part of your gift can be matched: the match fund does not have enough left for all of it.</p>
      ) : null}
      {r.matches.length === 0 && r.hasPledges ? <p className="notice">The match fund cannot match this gift, but every cent of it still goes to work.</p> : null}
      {r.matches.length > 0 && time ? <p className="hint">This match is reserved for you until {time}.</p> : null}

      <h2>Received by</h2>
      <p>
        <strong>{r.partner}</strong>, because {r.partnerReason}.
      </p>
      {/* Through cancel, like "Change my gift": this checkout ends and its match hold is freed
          before the form comes back, so a changed gift never holds the match twice. */}
      <Form method="post" action={`/donations/${r.id}/cancel`}>
        <button type="submit" className="link-button">
          Choose another LIFT entity
        </button>
      </Form>
      {r.tribute ? <p>{r.tribute}.</p> : null}
      {r.anonymous ? <p>Your name will not be shown anywhere public.</p> : null}
      {r.giftAidWording ? (
        <div className="review__gift-aid">
          <p>Your Gift Aid declaration, as recorded (it applies once you have paid):</p>
          <blockquote>{r.giftAidWording}</blockquote>
          <p>{r.partner} will claim 25p for every £1. If this is not what you meant, change your gift before paying.</p>
        </div>
      ) : null}

      <div className="review__actions">
        <a className="button button--primary" href={r.checkoutUrl}>
          Continue to secure payment
        </a>
        <Form method="post" action={`/donations/${r.id}/cancel`}>
          <button type="submit" className="button">
            Change my gift
          </button>
        </Form>
      </div>
    </section>
  )
}

export function ErrorBoundary() {
  return (
    <RouteError
      notFound={{ title: 'We could not find that gift', text: 'The link may be incomplete. Nothing was charged.' }}
      failed={{ title: 'This gift could not be shown', text: 'Something went wrong on our side. Nothing was charged.' }}
      back={{ to: '/', label: 'See our campaigns' }}
    />
  )
}
