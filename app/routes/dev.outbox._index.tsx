// The dev mail outbox: every email the app queued, newest first. Without RESEND_API_KEY this is
// where mail "arrives" (transport 'outbox'); with it, the same list shows what went to Resend.
// Not part of production: the route answers 404 there.
import type { MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { RouteError } from '#app/components/route-error.tsx'
import { listOutboxEmails } from '#app/models/email-outbox.server.ts'
import { isDevOutboxEnabled } from '#app/utils/email.server.ts'

export async function loader() {
  if (!isDevOutboxEnabled()) throw new Response('Not found', { status: 404 })
  const emails = await listOutboxEmails({ limit: 200 })
  return {
    emails: emails.map((e) => ({
      id: e.id,
      to: e.to,
      subject: e.subject ?? `(${e.template}, not rendered yet)`,
      status: e.status === 'sent' && e.transport === 'outbox' ? 'captured' : e.status,
      transport: e.transport,
      attempts: e.attempts,
      lastError: e.lastError,
      // Formatted here so the server and the browser print the same text.
      createdAt: stamp(e.createdAt),
    })),
  }
}

function stamp(at: Date) {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

export const meta: MetaFunction = () => [{ title: 'Dev mail outbox · LIFT International' }, { name: 'robots', content: 'noindex' }]

export default function DevOutbox() {
  const { emails } = useLoaderData<typeof loader>()
  return (
    <section className="card">
      <h1>Dev mail outbox</h1>
      <p className="hint">
        Email the app has queued, newest first. Without <code>RESEND_API_KEY</code> nothing leaves this machine: mail is kept here as
        &ldquo;captured&rdquo;. The worker sends due email every few seconds.
      </p>
      {emails.length === 0 ? (
        <p>No email yet. Give to a campaign with the checkout sandbox and the thank-you appears here.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Queued</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {emails.map((e) => (
              <tr key={e.id}>
                <td>{e.createdAt}</td>
                <td>{e.to}</td>
                <td>
                  <Link to={`/dev/outbox/${e.id}`}>{e.subject}</Link>
                </td>
                <td title={e.lastError ?? undefined}>
                  {e.status}
                  {e.status !== 'captured' && e.attempts > 0 ? ` (${e.attempts} attempt${e.attempts === 1 ? '' : 's'})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

export function ErrorBoundary() {
  return (
    <RouteError
      notFound={{ title: 'There is no mail outbox here', text: 'The dev mail outbox only exists outside production.' }}
      failed={{ title: 'The mail outbox could not be shown', text: 'The database may be unavailable; try again in a moment.' }}
      back={{ to: '/', label: 'See our campaigns' }}
    />
  )
}
