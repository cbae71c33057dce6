import type { MetaFunction } from '@remix-run/node'
import { isRouteErrorResponse, Link, useLoaderData, useRouteError } from '@remix-run/react'
import { CampaignCard } from '#app/components/campaign-card.tsx'
import { getLiveCampaigns } from '#app/models/campaigns.server.ts'
import { computeProgress, timeLeft } from '#app/utils/progress.ts'

export async function loader() {
  const now = new Date()
  const campaigns = await getLiveCampaigns()
  return {
    campaigns: campaigns.map((c) => ({
      slug: c.slug,
      title: c.title,
      summary: c.summary,
      currency: c.currency,
      donorsCount: c.donorsCount,
      timeLeft: timeLeft(c, now).label,
      progress: computeProgress({
        raisedGiftsMinor: c.raisedGiftsMinor,
        matchedMinor: c.matchedMinor,
        donorTargetMinor: c.donorTargetMinor,
        pledges: [{ capMinor: c.matchCapMinor, matchedMinor: c.pledgesMatchedMinor }],
      }),
    })),
  }
}

export const meta: MetaFunction = () => [
  { title: 'Give to LIFT International' },
  { name: 'description', content: 'Matched giving campaigns for survivors of human trafficking in Thailand.' },
]

export default function Index() {
  const { campaigns } = useLoaderData<typeof loader>()
  return (
    <>
      <section className="intro">
        <h1>Stand with survivors of trafficking</h1>
        <p>Every campaign below is matched by a partner, so your gift goes further. Pick one to read the story and give.</p>
      </section>
      {campaigns.length === 0 ? (
        <p className="empty">There are no open campaigns right now. Please check back soon.</p>
      ) : (
        <div className="card-list">
          {campaigns.map((campaign) => (
            <CampaignCard key={campaign.slug} {...campaign} />
          ))}
        </div>
      )}
    </>
  )
}

export function ErrorBoundary() {
  const error = useRouteError()
  return (
    <section className="error-page">
      <h1>Our campaigns could not be loaded</h1>
      <p>
        {isRouteErrorResponse(error)
          ? `The server answered ${error.status}.`
          : 'Something went wrong on our side. Please try again in a moment.'}
      </p>
      <p>
        <Link to="/">Try again</Link>
      </p>
    </section>
  )
}
