// The benchmark's yardstick (bench/page.ts): a page inside the same root layout that loads no
// data and renders a constant, so the campaign page is measured against Remix's own floor.
import type { MetaFunction } from '@remix-run/node'

export const meta: MetaFunction = () => [{ title: 'Baseline' }, { name: 'robots', content: 'noindex' }]

export default function Baseline() {
  return <p>LIFT International giving platform.</p>
}
