// Where Stripe sends the donor after paying. The webhook that records the gift may not have
// arrived yet, so until it has, the page says "confirming…" and checks again by itself (with
// JavaScript every two seconds, without it by a refresh header).
import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData, useRevalidator } from '@remix-run/react'
import { RouteError } from '#app/components/route-error.tsx'
import { useEffect } from 'react'
import { z } from 'zod'
import { ProgressBar } from '#app/components/progress-bar.tsx'
import { getDonationSummary } from '#app/models/donations.server.ts'
import { giftStanding } from '#app/utils/gift-standing.ts'
import { formatMoneyWithCode, isCurrency, type Currency } from '#app/utils/money.ts'
import { computeProgress } from '#app/utils/progress.ts'

const ParamsSchema = z.object({ donationId: z.uuid() })
const SearchSchema = z.object({ session_id: z.string().regex(/^cs_\w+$/).optional() })

export async function loader({ params, request }: LoaderFunctionArgs) {
  const parsed = ParamsSchema.safeParse(params)
  const search = SearchSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  if (!parsed.success || !search.success) throw new Response('Gift not found', { status: 404 })
  const gift = await getDonationSummary(parsed.data.donationId)
  // A session id that is not this gift's means a tampered link.
  if (!gift || (search.data.session_id && search.data.session_id !== gift.checkoutSessionId)) {
    throw new Response('Gift not found', { status: 404 })
  }
  const campaignCurrency = (isCurrency(gift.campaignCurrency) ? gift.campaignCurrency : 'USD') as Currency
  const standing = giftStanding(gift)
  const state =
    gift.status === 'succeeded' ? 'thanked' : gift.status === 'pending' ? 'confirming' : gift.status === 'processing' ? 'processing' : 'ended'
  return {
    state,
    status: gift.status,
    id: gift.id,
    monthly: gift.frequency === 'monthly',
    campaign: { slug: gift.campaignSlug, title: gift.campaignTitle, currency: campaignCurrency },
    // The whole charge is the donor's gift, a card fee they chose to cover included, less what a
    // refund or a dispute took back since, as the thank-you email says it; amounts carry their ISO
    // code, as the email's do, since "$" alone could be US or NZ dollars.
    gift: standing.remaining,
    feeCovered: standing.feeCovered,
    removed: standing.removed,
    nothingRemains: standing.remainingMinor === 0,
    designation: gift.designationName,
    partner: gift.partnerLegalName,
    matches: gift.earned.map((m) => ({ partner: m.partnerName, amount: formatMoneyWithCode(m.amountMinor, campaignCurrency) })),
    progress: gift.totals
      ? computeProgress({ raisedGiftsMinor: gift.totals.raisedGiftsMinor, matchedMinor: gift.totals.matchedMinor, donorTargetMinor: gift.donorTargetMinor, pledges: gift.pledges })
      : null,
  }
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data?.state === 'thanked' ? 'Thank you · LIFT International' : 'Confirming your gift · LIFT International' },
  ...(data?.state === 'confirming' ? [{ httpEquiv: 'refresh', content: '4' } as const] : []),
]

export default function Thanks() {
  const d = useLoaderData<typeof loader>()
  const revalidator = useRevalidator()
  useEffect(() => {
    if (d.state !== 'confirming') return
    const timer = setInterval(() => revalidator.state === 'idle' && revalidator.revalidate(), 2_000)
    return () => clearInterval(timer)
  }, [d.state, revalidator])

  return (
    <section className="card thanks" aria-live="polite">
      {d.state === 'thanked' ? (
        <>
          <h1>{d.nothingRemains ? 'Your payment was returned' : 'Thank you'}</h1>
          {d.nothingRemains ? (
            <p>
              Your payment of {d.removed?.charged} to {d.campaign.title} reached {d.partner} and was then returned to you in full, so nothing of it
              remains as a gift.
            </p>
          ) : (
            <p>
              Your {d.monthly ? 'monthly ' : ''}gift of <strong>{d.gift}</strong> to {d.campaign.title} has arrived at {d.partner}, for{' '}
              {d.designation}.
            </p>
          )}
          {d.removed?.refunded && !d.nothingRemains ? (
            <p className="thanks__removed">
              {d.removed.refunded} of the {d.removed.charged} you paid was refunded to you, so it is not part of your gift.
            </p>
          ) : null}
          {d.removed?.disputed && !d.nothingRemains ? (
            <p className="thanks__removed">
              {d.removed.disputed} of the {d.removed.charged} you paid was taken back through a dispute with your card issuer, so it is not part of
              your gift.
            </p>
          ) : null}
          {d.feeCovered ? (
            <p className="thanks__fee">
              Of this, {d.feeCovered.fee} covers card fees, so that {d.partner} receives the full {d.feeCovered.net}.
            </p>
          ) : null}
          {d.matches.map((m) => (
            <p key={m.partner} className="thanks__match">
              <strong>{m.partner}</strong> added <strong>{m.amount}</strong>.
            </p>
          ))}
        </>
      ) : d.state === 'confirming' ? (
        <>
          <h1>Confirming your gift…</h1>
          <p>Stripe has your payment of {d.gift}; we are waiting for its confirmation. This page updates by itself.</p>
        </>
      ) : d.state === 'processing' ? (
        <>
          <h1>Your payment is on its way</h1>
          <p>Bank payments take a few days to confirm. Your gift of {d.gift} and its match are held for you until then.</p>
        </>
      ) : (
        <>
          <h1>{d.status === 'canceled' ? 'You cancelled this gift' : d.status === 'expired' ? 'This checkout expired' : 'This payment did not go through'}</h1>
          <p>Nothing was charged.</p>
          <p>
            <Link className="button button--primary" to={`/campaigns/${d.campaign.slug}?resume=${d.id}#donate`}>
              Try again
            </Link>
          </p>
        </>
      )}
      {d.progress ? <ProgressBar id="thanks-progress" progress={d.progress} currency={d.campaign.currency} /> : null}
      <p>
        <Link to={`/campaigns/${d.campaign.slug}`}>Back to the campaign</Link>
      </p>
    </section>
  )
}

export function ErrorBoundary() {
  const safe = 'If you paid, your gift is safe: Stripe holds the record, and the LIFT entity that received it will email you an acknowledgement.'
  return (
    <RouteError
      notFound={{ title: 'We could not find that gift', text: safe }}
      failed={{ title: 'This page could not be shown', text: safe }}
      back={{ to: '/', label: 'See our campaigns' }}
    />
  )
}
