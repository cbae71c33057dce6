// One email from the dev mail outbox, rendered as the donor's mail client would show it. The HTML
// is shown in a sandboxed iframe (no scripts, no same-origin access). Not part of production.
import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { RouteError } from '#app/components/route-error.tsx'
import { z } from 'zod'
import { getOutboxEmail } from '#app/models/email-outbox.server.ts'
import { isDevOutboxEnabled } from '#app/utils/email.server.ts'

// Digits only (no "1e3", " 7" or "0x10"), within the int4 identity column's range.
const ParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/)
    .transform(Number)
    .pipe(z.number().max(2_147_483_647)),
})

export async function loader({ params }: LoaderFunctionArgs) {
  if (!isDevOutboxEnabled()) throw new Response('Not found', { status: 404 })
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success) throw new Response('Email not found', { status: 404 })
  const email = await getOutboxEmail(parsed.data.id)
  if (!email) throw new Response('Email not found', { status: 404 })
  return {
    id: email.id,
    to: email.toAddress,
    subject: email.subject,
    html: email.html,
    text: email.text,
    preview: email.preview,
    status: email.status === 'sent' && email.transport === 'outbox' ? 'captured' : email.status,
    transport: email.transport,
    providerMessageId: email.providerMessageId,
    attempts: email.attempts,
    lastError: email.lastError,
    key: email.dedupeKey,
  }
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.subject ?? 'Email'} · Dev mail outbox` },
  { name: 'robots', content: 'noindex' },
]

export default function DevOutboxEmail() {
  const email = useLoaderData<typeof loader>()
  return (
    <section className="card">
      <p>
        <Link to="/dev/outbox">← All email</Link>
      </p>
      <h1>{email.subject}</h1>
      <dl>
        <dt>To</dt>
        <dd>{email.to}</dd>
        <dt>Status</dt>
        <dd>
          {email.status}
          {email.transport === 'resend' && email.providerMessageId ? ` (Resend id ${email.providerMessageId})` : ''}
          {email.attempts > 0 ? `, ${email.attempts} attempt${email.attempts === 1 ? '' : 's'}` : ''}
        </dd>
        {email.lastError ? (
          <>
            <dt>Last error</dt>
            <dd>{email.lastError}</dd>
          </>
        ) : null}
        <dt>Idempotency key</dt>
        <dd>
          <code>{email.key}</code>
        </dd>
      </dl>
      {email.preview ? <p className="notice">Not sent yet: this is how it would look if it were sent now.</p> : null}
      <iframe title="Email body" sandbox="" srcDoc={email.html} style={{ width: '100%', height: '70vh', border: '1px solid #d9d4c7', background: '#fff' }} />
      {email.text ? (
        <details>
          <summary>Plain-text part</summary>
          <pre style={{ whiteSpace: 'pre-wrap' }}>{email.text}</pre>
        </details>
      ) : null}
    </section>
  )
}

export function ErrorBoundary() {
  return (
    <RouteError
      notFound={{ title: 'We could not find that email', text: 'The address may be mistyped, or the dev mail outbox is not available here.' }}
      failed={{ title: 'This email could not be shown', text: 'Rendering it failed; the worker log may say why.' }}
      back={{ to: '/dev/outbox', label: 'Back to the mail outbox' }}
    />
  )
}
