import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { isRouteErrorResponse, Link, useActionData, useLoaderData, useRouteError } from '@remix-run/react'
import { z } from 'zod'
import { donorsLabel } from '#app/components/campaign-card.tsx'
import { DonationForm } from '#app/components/donation-form.tsx'
import { HowWeCount } from '#app/components/how-we-count.tsx'
import { MatchFill, ProgressBar } from '#app/components/progress-bar.tsx'
import { SupporterList } from '#app/components/supporter-list.tsx'
import { checkoutLimits, hitLimit, recordRefusal } from '#app/models/abuse.server.ts'
import { getCampaignForDonation, getCampaignPageSnapshot, isOpenForGifts } from '#app/models/campaigns.server.ts'
import { createCheckout, getResumeValues } from '#app/models/checkout.server.ts'
import { db } from '#app/utils/db.server.ts'
import { parseDonationForm, type DonationActionResult } from '#app/utils/donation-form.ts'
import { renderMarkdown } from '#app/utils/markdown.server.ts'
import { resumeCookieHeader, resumeTokenFor } from '#app/utils/resume-cookie.server.ts'
import { formatMoney } from '#app/utils/money.ts'
import { computeProgress, pledgeFill, ratioLabel, timeAgo, timeLeft } from '#app/utils/progress.ts'
import { readFormWithin } from '#app/utils/request-body.server.ts'

const ParamsSchema = z.object({
  slug: z
    .string()
    .max(100)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
})

/** Unknown, draft and malformed slugs all look the same from outside: not found. */
function notFound(): never {
  throw new Response('Campaign not found', { status: 404, statusText: 'Not Found' })
}

function requireSlug(params: LoaderFunctionArgs['params']): string {
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success) notFound()
  return parsed.data.slug
}

const ResumeSchema = z.object({ resume: z.uuid().optional() })

export async function loader({ params, request }: LoaderFunctionArgs) {
  const resume = ResumeSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  const resumeId = resume.success ? resume.data.resume : undefined
  const slug = requireSlug(params)
  const [page, initialValues] = await Promise.all([
    getCampaignPageSnapshot(slug),
    resumeId ? getResumeValues(resumeId, await resumeTokenFor(request, resumeId), slug) : null,
  ])
  if (!page) notFound()
  const { campaign, pledges, designations, supporters, partners, giftAidFee } = page
  const now = new Date()
  return {
    campaign: {
      slug: campaign.slug,
      title: campaign.title,
      summary: campaign.summary,
      currency: campaign.currency,
      status: campaign.status,
      defaultDesignationId: campaign.defaultDesignationId,
      donorsCount: campaign.donorsCount,
    },
    storyHtml: renderMarkdown(campaign.storyMarkdown),
    progress: computeProgress({ ...campaign, pledges }),
    pledges: pledges.map((p) => ({ id: p.id, partnerName: p.partnerName, ratio: ratioLabel(p.ratioNum, p.ratioDen), fill: pledgeFill(p) })),
    // A campaign closed early has ended, whatever its planned end date said.
    timeLeft: campaign.status === 'closed' ? ({ state: 'ended', label: 'Ended' } as const) : timeLeft(campaign, now),
    openForGifts: isOpenForGifts(campaign, now),
    designations,
    partners,
    giftAidFee,
    initialValues: initialValues ?? undefined,
    supporters: supporters.map((s) => ({
      name: s.displayName,
      amount: formatMoney(s.amountMinor, s.currency, { whole: true }),
      when: timeAgo(s.settledAt, now),
    })),
  }
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const slug = requireSlug(params)
  const target = await getCampaignForDonation(slug)
  if (!target) notFound()
  // Only a browser form post is meaningful here; anything else is a bad request, not a crash. The
  // form is a few hundred bytes; 64 KB leaves room for every field at its longest.
  const formData = await readFormWithin(request, 64 * 1024, 'Send the donation form as form data')
  const parsed = parseDonationForm(formData, { designationIds: target.designationIds })
  const route = `/campaigns/${slug}`
  // A filled-in honeypot is a bot, noted whatever else is wrong; it is told no more than a person would be.
  if (!parsed.ok && parsed.errors.website) await recordRefusal(db, { reason: 'honeypot', route, ip: context.clientIp, email: parsed.values.email })
  if (!isOpenForGifts(target.campaign, new Date())) {
    return data<DonationActionResult>({ status: 'closed', message: 'This campaign is not taking gifts right now.', values: parsed.values }, { status: 409 })
  }
  if (!parsed.ok) {
    return data<DonationActionResult>({ status: 'invalid', errors: parsed.errors, values: parsed.values }, { status: 400 })
  }
  const gift = parsed.data
  for (const [limit, subject] of [
    [checkoutLimits.perIp, context.clientIp],
    [checkoutLimits.perEmail, gift.email],
  ] as const) {
    const wait = await hitLimit(db, limit, subject)
    if (wait !== null) {
      await recordRefusal(db, { reason: `rate limit per ${limit.name}`, route, ip: context.clientIp, email: gift.email, detail: { retryAfterSeconds: wait } })
      return data<DonationActionResult>(
        { status: 'refused', message: `Too many attempts: please wait ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''} and try again.`, values: parsed.values },
        { status: 429, headers: { 'Retry-After': String(wait) } },
      )
    }
  }
  const result = await createCheckout({ ...gift, campaignSlug: slug })
  if (!result.ok) {
    if (result.field) {
      return data<DonationActionResult>({ status: 'invalid', errors: { [result.field]: result.error }, values: parsed.values }, { status: result.status })
    }
    return data<DonationActionResult>({ status: 'refused', message: result.error, values: parsed.values }, { status: result.status })
  }
  return redirect(`/donations/${result.donationId}/review`, { headers: { 'Set-Cookie': await resumeCookieHeader(result.donationId, result.resumeToken) } })
}

export const meta: MetaFunction<typeof loader> = ({ data }) => {
  if (!data) return [{ title: 'Campaign not found · LIFT International' }]
  return [
    { title: `${data.campaign.title} · LIFT International` },
    { name: 'description', content: data.campaign.summary },
    { property: 'og:title', content: data.campaign.title },
    { property: 'og:description', content: data.campaign.summary },
  ]
}

export default function CampaignPage() {
  const { campaign, storyHtml, progress, pledges, timeLeft, openForGifts, designations, supporters, partners, giftAidFee, initialValues } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const ended = campaign.status === 'closed' || timeLeft.state === 'ended'
  return (
    <article className="campaign">
      <header className="campaign__header">
        <h1>{campaign.title}</h1>
        <p className="campaign__summary">{campaign.summary}</p>
      </header>

      <div className="campaign__layout">
        <aside className="campaign__panel card" aria-label="Progress">
          <ProgressBar id="campaign-progress" progress={progress} currency={campaign.currency} />
          {pledges.map((pledge) => (
            <MatchFill key={pledge.id} id={`pledge-${pledge.id}`} partnerName={pledge.partnerName} ratio={pledge.ratio} fill={pledge.fill} currency={campaign.currency} />
          ))}
          <dl className="campaign__stats">
            <div>
              <dt>Donors</dt>
              <dd>{donorsLabel(campaign.donorsCount)}</dd>
            </div>
            <div>
              <dt>Time left</dt>
              <dd>{timeLeft.label}</dd>
            </div>
          </dl>
          {openForGifts ? (
            <a className="button button--primary button--block campaign__give-link" href="#donate">
              Give now
            </a>
          ) : null}
          <HowWeCount progress={progress} currency={campaign.currency} />
        </aside>

        <div className="campaign__story">
          {/* Sanitised on the server with a strict allowlist (app/utils/markdown.server.ts). */}
          <div className="prose" dangerouslySetInnerHTML={{ __html: storyHtml }} />
          <SupporterList supporters={supporters} />
        </div>

        <section className="campaign__donate card" id="donate" aria-label="Donate">
          {openForGifts ? (
            <DonationForm
              currency={campaign.currency}
              designations={designations}
              defaultDesignationId={campaign.defaultDesignationId}
              result={result}
              initialValues={initialValues}
              partners={partners}
              giftAidFee={giftAidFee}
            />
          ) : (
            <div className="ended">
              <h2>{ended ? 'This campaign has ended' : 'This campaign has not started yet'}</h2>
              <p>{ended ? 'Thank you to everyone who gave. Every gift and match has been put to work.' : timeLeft.label}</p>
              <p>
                <Link to="/">See campaigns you can give to now</Link>
              </p>
            </div>
          )}
        </section>
      </div>
    </article>
  )
}

export function ErrorBoundary() {
  const error = useRouteError()
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <section className="error-page">
        <h1>We could not find that campaign</h1>
        <p>It may have been mistyped, or it is not open to the public yet.</p>
        <p>
          <Link to="/">See our campaigns</Link>
        </p>
      </section>
    )
  }
  if (isRouteErrorResponse(error) && error.status === 400) {
    return (
      <section className="error-page">
        <h1>That request could not be read</h1>
        <p>Please go back to the campaign and use the form on the page. Nothing was charged.</p>
        <p>
          <Link to="/">See our campaigns</Link>
        </p>
      </section>
    )
  }
  return (
    <section className="error-page">
      <h1>This campaign could not be shown</h1>
      <p>Something went wrong on our side. Nothing was charged. Please try again in a moment.</p>
      <p>
        <Link to="/">Back to all campaigns</Link>
      </p>
    </section>
  )
}
