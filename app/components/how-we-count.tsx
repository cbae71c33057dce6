// The progress formula, shown with this campaign's own figures. A native <details>, so it opens
// without JavaScript. The rules are docs/decisions/0001-progress-formula.md in donors' words.
import { formatMoney, type Currency } from '#app/utils/money.ts'
import type { Progress } from '#app/utils/progress.ts'

export function HowWeCount({ progress, currency }: { progress: Progress; currency: Currency }) {
  const money = (minor: number) => formatMoney(minor, currency, { whole: true })
  return (
    <details className="how-we-count">
      <summary>How we count</summary>
      <table>
        <tbody>
          <tr>
            <th scope="row">Gifts received</th>
            <td>{money(progress.giftsMinor)}</td>
          </tr>
          <tr>
            <th scope="row">+ Match earned</th>
            <td>{money(progress.matchedMinor)}</td>
          </tr>
          <tr className="how-we-count__total">
            <th scope="row">= Raised</th>
            <td>{money(progress.raisedMinor)}</td>
          </tr>
          <tr>
            <th scope="row">Donor target</th>
            <td>{money(progress.donorTargetMinor)}</td>
          </tr>
          <tr>
            <th scope="row">+ Match pledged</th>
            <td>{money(progress.matchCapMinor)}</td>
          </tr>
          <tr className="how-we-count__total">
            <th scope="row">= Goal</th>
            <td>{money(progress.goalMinor)}</td>
          </tr>
        </tbody>
      </table>
      <ul>
        <li>A gift counts once the payment has settled. Gifts still being paid, and match held for them, are not counted yet.</li>
        <li>Card fees a donor chooses to cover are not counted, only the gift itself. Refunds are taken off.</li>
        <li>Gifts in other currencies count at the exchange rate recorded for each gift when it was made.</li>
        <li>The match partner&apos;s fill is shown separately, so you can see how much matching is left.</li>
      </ul>
    </details>
  )
}
