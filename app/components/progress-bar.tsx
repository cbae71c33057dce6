// The campaign's bar: gifts and match drawn as two segments of one track, with the figures in
// words beside it. Plain markup and inline widths, so it is complete without JavaScript, and a
// real progressbar for assistive technology (values in whole currency units, text in words).
import { formatMoney, type Currency } from '#app/utils/money.ts'
import { formatPercent, type PledgeFill, type Progress } from '#app/utils/progress.ts'

const major = (minor: number) => minor / 100

export function ProgressBar({ id, progress, currency, size = 'large' }: { id: string; progress: Progress; currency: Currency; size?: 'large' | 'small' }) {
  const money = (minor: number) => formatMoney(minor, currency, { whole: true })
  const raised = money(progress.raisedMinor)
  const goal = money(progress.goalMinor)
  const percent = formatPercent(progress.percent)
  const valueText =
    progress.goalMinor > 0
      ? `${raised} raised of ${goal} goal (${percent})${progress.overGoal ? ', goal passed' : ''}`
      : `${raised} raised`
  return (
    <div className={`progress progress--${size}`}>
      <div className="progress__top">
        <p className="progress__headline" id={`${id}-label`}>
          <strong className="progress__raised">{raised}</strong> raised
          {progress.goalMinor > 0 ? (
            <>
              {' '}of <span className="progress__goal">{goal}</span> goal
            </>
          ) : null}
        </p>
        {progress.goalMinor > 0 ? (
          <p className="progress__percent" aria-hidden="true">
            {percent}
          </p>
        ) : null}
      </div>
      <div
        className="progress__track"
        role="progressbar"
        aria-labelledby={`${id}-label`}
        aria-valuemin={0}
        aria-valuemax={major(progress.goalMinor)}
        aria-valuenow={major(Math.min(progress.raisedMinor, progress.goalMinor))}
        aria-valuetext={valueText}
      >
        <span className="progress__gifts" style={{ width: `${progress.giftsWidth}%` }} />
        <span className="progress__match" style={{ width: `${progress.matchWidth}%` }} />
      </div>
      <p className="progress__legend">
        <span className="progress__key">
          <span className="swatch swatch--gifts" aria-hidden="true" /> Gifts {money(progress.giftsMinor)}
        </span>
        <span className="progress__key">
          <span className="swatch swatch--match" aria-hidden="true" /> Match {money(progress.matchedMinor)}
        </span>
        {progress.overGoal ? <span className="progress__passed">Goal passed, thank you!</span> : null}
      </p>
    </div>
  )
}

/** One pledge's own fill: "$4,210 of $15,000 matched". */
export function MatchFill({ id, partnerName, ratio, fill, currency }: { id: string; partnerName: string; ratio: string; fill: PledgeFill; currency: Currency }) {
  const money = (minor: number) => formatMoney(minor, currency, { whole: true })
  const text = `${money(fill.matchedMinor)} of ${money(fill.capMinor)} matched`
  return (
    <div className="match-fill">
      <p className="match-fill__partner" id={`${id}-label`}>
        <strong>{partnerName}</strong> matches gifts {ratio}
      </p>
      <div
        className="match-fill__track"
        role="progressbar"
        aria-labelledby={`${id}-label`}
        aria-valuemin={0}
        aria-valuemax={major(fill.capMinor)}
        aria-valuenow={major(Math.min(fill.matchedMinor, fill.capMinor))}
        aria-valuetext={text}
      >
        <span className="match-fill__bar" style={{ width: `${fill.width}%` }} />
      </div>
      <p className="match-fill__text">
        {text}
        {fill.full ? ' — fully matched, thank you!' : ` · ${money(fill.remainingMinor)} of match left`}
      </p>
    </div>
  )
}
