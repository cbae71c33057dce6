// The progress bar's arithmetic, kept pure so every figure on the bar is unit-tested. The formula
// is public (docs/decisions/0001-progress-formula.md) and shown on the page under "How we count":
//   raised = settled gifts + match earned      goal = donor target + every pledge's cap
// Widths are clamped to 0–100 for drawing; the words always show the real figures, so a campaign
// past its goal says so instead of pretending to stop at 100 %.

export interface ProgressInput {
  /** campaign_totals.raised_gifts_minor: settled gifts, fees excluded, at each gift's rate. */
  raisedGiftsMinor: number
  /** campaign_totals.matched_minor: match earned net of reversals. */
  matchedMinor: number
  donorTargetMinor: number
  pledges: readonly { capMinor: number; matchedMinor: number }[]
}

export interface Progress {
  giftsMinor: number
  matchedMinor: number
  raisedMinor: number
  goalMinor: number
  donorTargetMinor: number
  matchCapMinor: number
  /** raised ÷ goal as a real percentage, possibly above 100; 0 when the goal is 0. */
  percent: number
  /** Bar widths in percent of the track, clamped so the two segments never exceed 100. */
  giftsWidth: number
  matchWidth: number
  overGoal: boolean
  /** What is still needed to reach the goal; 0 once it is reached. */
  remainingMinor: number
}

function clampPercent(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0
  return value >= 100 ? 100 : value
}

/** A percentage of a whole, safe when the whole is zero. */
export function percentOf(part: number, whole: number): number {
  return whole > 0 ? (part / whole) * 100 : 0
}

/**
 * Rounded down for display, so a bar at 99.6 % never claims "100%": one decimal below 10 % (an
 * early gift still shows movement), whole numbers above.
 */
export function formatPercent(percent: number): string {
  if (percent > 0 && percent < 1) return '<1%'
  return `${percent < 10 ? Math.floor(percent * 10) / 10 : Math.floor(percent)}%`
}

export function computeProgress(input: ProgressInput): Progress {
  const giftsMinor = Math.max(0, input.raisedGiftsMinor)
  const matchedMinor = Math.max(0, input.matchedMinor)
  const raisedMinor = giftsMinor + matchedMinor
  const matchCapMinor = input.pledges.reduce((sum, p) => sum + p.capMinor, 0)
  const goalMinor = input.donorTargetMinor + matchCapMinor
  const giftsWidth = clampPercent(percentOf(giftsMinor, goalMinor))
  const matchWidth = Math.min(clampPercent(percentOf(matchedMinor, goalMinor)), 100 - giftsWidth)
  return {
    giftsMinor,
    matchedMinor,
    raisedMinor,
    goalMinor,
    donorTargetMinor: input.donorTargetMinor,
    matchCapMinor,
    percent: percentOf(raisedMinor, goalMinor),
    giftsWidth,
    matchWidth,
    overGoal: goalMinor > 0 && raisedMinor > goalMinor,
    remainingMinor: Math.max(0, goalMinor - raisedMinor),
  }
}

export interface PledgeFill {
  matchedMinor: number
  capMinor: number
  remainingMinor: number
  /** For the bar: clamped 0–100. */
  width: number
  full: boolean
}

/** One pledge's own fill: "$4,210 of $15,000 matched". */
export function pledgeFill(pledge: { capMinor: number; matchedMinor: number }): PledgeFill {
  return {
    matchedMinor: pledge.matchedMinor,
    capMinor: pledge.capMinor,
    remainingMinor: Math.max(0, pledge.capMinor - pledge.matchedMinor),
    width: clampPercent(percentOf(pledge.matchedMinor, pledge.capMinor)),
    full: pledge.capMinor > 0 && pledge.matchedMinor >= pledge.capMinor,
  }
}

export type TimeLeft =
  | { state: 'upcoming'; label: string }
  | { state: 'open'; label: string; daysLeft: number }
  | { state: 'ended'; label: string }

const hour = 3_600_000
const day = 24 * hour

/**
 * Time left in words. Counted in whole elapsed days from `now` rather than calendar days, so the
 * server and every visitor agree whatever their time zone: "Ends today" means the final 24 hours.
 */
export function timeLeft(window: { startsAt: Date; endsAt: Date }, now: Date): TimeLeft {
  const untilEnd = window.endsAt.getTime() - now.getTime()
  if (untilEnd <= 0) return { state: 'ended', label: 'Ended' }
  const untilStart = window.startsAt.getTime() - now.getTime()
  if (untilStart > 0) {
    const days = Math.ceil(untilStart / day)
    return { state: 'upcoming', label: days <= 1 ? 'Starts within a day' : `Starts in ${days} days` }
  }
  const days = Math.floor(untilEnd / day)
  if (days === 0) return { state: 'open', label: 'Ends today', daysLeft: 0 }
  return { state: 'open', label: days === 1 ? '1 day left' : `${days} days left`, daysLeft: days }
}

/** "2 hours ago", "3 days ago": for the supporters list, computed once on the server. */
export function timeAgo(then: Date, now: Date): string {
  const elapsed = Math.max(0, now.getTime() - then.getTime())
  const minutes = Math.floor(elapsed / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 60) return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`
  const hours = Math.floor(elapsed / hour)
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`
  const days = Math.floor(elapsed / day)
  return days === 1 ? 'yesterday' : `${days} days ago`
}

/** "1:1", "2:1": how much match each unit of gift earns. */
export function ratioLabel(num: number, den: number): string {
  return `${num}:${den}`
}
