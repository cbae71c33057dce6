// The offline sandbox's stand-in for Stripe's hosted checkout page (development and test only,
// without Stripe keys). It reads the session through the real Stripe client, which the sandbox's
// fake answers, and tells the fake what the donor did; the fake then sends the signed webhooks.
// Works without JavaScript: plain forms, a redirect to the session's success_url.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { RouteError } from '#app/components/route-error.tsx'
import type Stripe from 'stripe'
import { z } from 'zod'
import { fiscalPartnerIds, getEnv, type FiscalPartnerId } from '#app/utils/env.server.ts'
import { formatMoney, isCurrency } from '#app/utils/money.ts'
import { getStripe, getStripeAccount, getStripeApiUrl, getStripeMode } from '#app/utils/stripe.server.ts'
import { readFormWithin } from '#app/utils/request-body.server.ts'

// Built when the loader or action runs, never at module load: the classic compiler empties
// env.server.ts in the browser bundle, so there fiscalPartnerIds is undefined and a module-level
// z.enum(fiscalPartnerIds) throws before the page can hydrate.
const paramsSchema = () =>
  z.object({
    partner: z.enum(fiscalPartnerIds),
    sessionId: z.string().regex(/^cs_test_[A-Za-z0-9]{8,120}$/),
  })

const countries = [
  ['US', 'United States'],
  ['GB', 'United Kingdom'],
  ['NZ', 'New Zealand'],
  ['AU', 'Australia'],
  ['CA', 'Canada'],
  ['TH', 'Thailand'],
  ['DE', 'Germany'],
] as const

const ActionSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('pay'),
    outcome: z.enum(['paid', 'processing', 'declined']),
    name: z.string().trim().max(100).optional(),
    country: z.enum(countries.map(([code]) => code) as [string, ...string[]]).optional(),
  }),
  z.object({ intent: z.literal('settle'), succeeded: z.enum(['true', 'false']) }),
])

const homeCountry: Record<FiscalPartnerId, string> = { us: 'US', uk: 'GB', nz: 'NZ' }
const entityName: Record<FiscalPartnerId, string> = { us: 'LIFT International (US)', uk: 'LIFT International UK', nz: 'LIFT International New Zealand' }

function notFound(): never {
  throw new Response('Not found', { status: 404, statusText: 'Not Found' })
}

/** Only a sandbox without keys, never production, and only well-formed ids. */
function requireSandbox(params: LoaderFunctionArgs['params']) {
  const env = getEnv()
  if (env.NODE_ENV === 'production' || getStripeMode(env) !== 'sandbox') notFound()
  const parsed = paramsSchema().safeParse(params)
  if (!parsed.success) notFound()
  return parsed.data
}

async function retrieveSession(partner: FiscalPartnerId, sessionId: string): Promise<Stripe.Checkout.Session> {
  try {
    return await getStripe(partner).checkout.sessions.retrieve(sessionId, { expand: ['line_items', 'payment_intent'] })
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) notFound()
    throw error
  }
}

export async function loader({ params }: LoaderFunctionArgs) {
  const { partner, sessionId } = requireSandbox(params)
  const session = await retrieveSession(partner, sessionId)
  const currency = (session.currency ?? 'usd').toUpperCase()
  const money = (minor: number) => (isCurrency(currency) ? formatMoney(minor, currency) : `${(minor / 100).toFixed(2)} ${currency}`)
  const intent = typeof session.payment_intent === 'object' ? session.payment_intent : null
  return {
    partner,
    entity: entityName[partner],
    defaultCountry: homeCountry[partner],
    session: {
      id: session.id,
      mode: session.mode,
      status: session.status,
      paymentStatus: session.payment_status,
      intentStatus: intent?.status ?? null,
      email: session.customer_email ?? session.customer_details?.email ?? null,
      total: money(session.amount_total ?? 0),
      monthly: session.mode === 'subscription',
      lines: (session.line_items?.data ?? []).map((line) => ({ id: line.id, description: line.description ?? 'Item', quantity: line.quantity ?? 1, amount: money(line.amount_total) })),
      cancelUrl: session.cancel_url,
      expiresAt: new Date(session.expires_at * 1000).toISOString(),
    },
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { partner, sessionId } = requireSandbox(params)
  const parsed = ActionSchema.safeParse(Object.fromEntries(await readFormWithin(request, 16 * 1024, 'Send the choice as form data')))
  if (!parsed.success) return data({ message: 'That choice is not one this page offers.', declined: false }, { status: 400 })
  const form = parsed.data
  const body =
    form.intent === 'pay'
      ? new URLSearchParams({ outcome: form.outcome, ...(form.name ? { name: form.name } : {}), ...(form.country ? { country: form.country } : {}) })
      : new URLSearchParams({ succeeded: form.succeeded })
  // The fake's own endpoint, authorised by the partner's sandbox key, like any Stripe call.
  const response = await fetch(`${getStripeApiUrl()}/v1/__sandbox/checkout_sessions/${sessionId}/${form.intent === 'pay' ? 'complete' : 'settle'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${getStripeAccount(partner).secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  const result = (await response.json()) as { error?: { message: string }; declined?: boolean; session?: Stripe.Checkout.Session }
  if (!response.ok || !result.session) {
    return data({ message: result.error?.message ?? 'The sandbox could not do that.', declined: false }, { status: response.status === 404 ? 404 : 400 })
  }
  if (form.intent === 'settle') {
    return { message: form.succeeded === 'true' ? 'The bank debit is confirmed: the webhook is on its way.' : 'The bank debit failed: the webhook is on its way.', declined: false }
  }
  if (result.declined) return data({ message: 'Your card was declined. Nothing was charged; you can try again.', declined: true }, { status: 402 })
  const successUrl = result.session.success_url
  if (!successUrl) return { message: 'Payment complete.', declined: false }
  throw redirect(successUrl.replaceAll('{CHECKOUT_SESSION_ID}', sessionId))
}

export const meta: MetaFunction = () => [{ title: 'Sandbox checkout — no real money moves' }, { name: 'robots', content: 'noindex' }]

const banner = {
  background: 'repeating-linear-gradient(45deg, #fff4c2, #fff4c2 12px, #ffe98a 12px, #ffe98a 24px)',
  border: '3px dashed #8a6d00',
  borderRadius: 10,
  padding: '0.8rem 1rem',
  margin: '1rem 0',
  color: '#3d3000',
} as const

export default function SandboxCheckout() {
  const { entity, defaultCountry, session } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const busy = useNavigation().state !== 'idle'
  const open = session.status === 'open'
  const processing = session.status === 'complete' && session.intentStatus === 'processing'
  return (
    <section className="sandbox-checkout" style={{ maxWidth: 560, margin: '0 auto 2rem' }}>
      <div role="note" style={banner}>
        <strong style={{ fontSize: '1.15rem' }}>Offline sandbox — no real money moves</strong>
        <p style={{ margin: '0.3rem 0 0' }}>
          This page stands in for Stripe Checkout because no Stripe keys are configured. No card is charged and nothing leaves this computer.
        </p>
      </div>
      <div className="card">
        <p className="notice" style={{ marginTop: 0 }}>
          Paying {entity} · session <code>{session.id.slice(0, 20)}…</code>
        </p>
        <h1>{session.monthly ? 'Monthly gift' : 'Your gift'}</h1>
        <table style={{ width: '100%', borderCollapse: 'collapse', margin: '0 0 1rem' }}>
          <tbody>
            {session.lines.map((line) => (
              <tr key={line.id}>
                <td style={{ padding: '0.35rem 0' }}>
                  {line.description}
                  {line.quantity > 1 ? ` × ${line.quantity}` : ''}
                </td>
                <td style={{ textAlign: 'right' }}>{line.amount}</td>
              </tr>
            ))}
            <tr style={{ borderTop: '1px solid #ccc', fontWeight: 700 }}>
              <td style={{ padding: '0.5rem 0' }}>Total{session.monthly ? ' each month' : ''}</td>
              <td style={{ textAlign: 'right' }}>{session.total}</td>
            </tr>
          </tbody>
        </table>
        {session.email ? <p>Receipt to: {session.email}</p> : null}

        {result?.message ? (
          <p role={result.declined ? 'alert' : 'status'} className="notice" style={result.declined ? { background: '#fde2e1', color: '#7a1c16' } : undefined}>
            {result.message}
          </p>
        ) : null}

        {open ? (
          <Form method="post">
            <input type="hidden" name="intent" value="pay" />
            <div className="field">
              <label htmlFor="name">Name on card</label>
              <input id="name" name="name" autoComplete="cc-name" defaultValue="Sandbox Donor" maxLength={100} />
            </div>
            <div className="field">
              <label htmlFor="country">Country</label>
              <select id="country" name="country" defaultValue={defaultCountry}>
                {countries.map(([code, label]) => (
                  <option key={code} value={code}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <p style={{ display: 'grid', gap: '0.5rem' }}>
              <button className="button button--primary button--block" name="outcome" value="paid" disabled={busy}>
                Pay now (card succeeds)
              </button>
              {session.monthly ? null : (
                <button className="button button--block" name="outcome" value="processing" disabled={busy}>
                  Pay by bank debit (confirms later)
                </button>
              )}
              <button className="button button--block" name="outcome" value="declined" disabled={busy} style={{ background: '#7a1c16' }}>
                Decline the card
              </button>
            </p>
          </Form>
        ) : session.status === 'expired' ? (
          <p role="status">This checkout has expired. Nothing was charged; please start your gift again.</p>
        ) : processing ? (
          <p role="status">Your bank debit is being processed. It can take a few days to confirm; we will email you when it does.</p>
        ) : (
          <p role="status">This checkout is complete{session.paymentStatus === 'paid' ? ' and paid' : ''}. Thank you.</p>
        )}

        {session.cancelUrl && open ? (
          <p>
            <a href={session.cancelUrl}>← Back</a>
          </p>
        ) : null}

        {processing ? (
          <Form method="post" className="notice" style={{ marginTop: '1rem' }}>
            <input type="hidden" name="intent" value="settle" />
            Sandbox admin:{' '}
            <button name="succeeded" value="true" disabled={busy}>
              Confirm the bank debit
            </button>{' '}
            <button name="succeeded" value="false" disabled={busy}>
              Fail the bank debit
            </button>
          </Form>
        ) : null}
      </div>
    </section>
  )
}

export function ErrorBoundary() {
  return (
    <RouteError
      notFound={{
        title: 'No such sandbox checkout',
        text: 'This page only exists in the offline Stripe sandbox (development without Stripe keys), for a checkout session it created.',
      }}
      failed={{
        title: 'The sandbox checkout could not be shown',
        text: 'Something went wrong in the offline sandbox. No real money moves here; please go back and start the gift again.',
      }}
      back={{ to: '/', label: 'Back to campaigns' }}
    />
  )
}
