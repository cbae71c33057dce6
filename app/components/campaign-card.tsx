import { Link } from '@remix-run/react'
import type { Currency } from '#app/utils/money.ts'
import type { Progress } from '#app/utils/progress.ts'
import { ProgressBar } from './progress-bar.tsx'

export interface CampaignCardProps {
  slug: string
  title: string
  summary: string
  currency: Currency
  progress: Progress
  donorsCount: number
  timeLeft: string
}

export function CampaignCard({ slug, title, summary, currency, progress, donorsCount, timeLeft }: CampaignCardProps) {
  return (
    <article className="card campaign-card">
      <h2 className="campaign-card__title">
        <Link to={`/campaigns/${slug}`}>{title}</Link>
      </h2>
      <p className="campaign-card__summary">{summary}</p>
      <ProgressBar id={`bar-${slug}`} progress={progress} currency={currency} size="small" />
      <p className="campaign-card__meta">
        <span>{donorsLabel(donorsCount)}</span>
        <span>{timeLeft}</span>
      </p>
      <Link className="button button--primary button--block" to={`/campaigns/${slug}`} aria-label={`Give to ${title}`}>
        Give now
      </Link>
    </article>
  )
}

export function donorsLabel(count: number): string {
  return count === 1 ? '1 donor' : `${count.toLocaleString('en-US')} donors`
}
