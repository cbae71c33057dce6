// How an email leaves the app. With RESEND_API_KEY it goes to Resend; without it (development and
// test only, the env schema refuses production) it stays in the dev outbox: the outbox row itself,
// marked as sent through 'outbox', which /dev/outbox lists. This choice is the only place the
// app tells the two apart; everything above it queues, renders and records the same way.
import { Resend } from 'resend'
import { getEnv, type Env } from './env.server.ts'

export interface OutgoingEmail {
  to: string
  subject: string
  html: string
  text: string
  /** The same key for every attempt at the same email, so a provider can drop repeats. */
  idempotencyKey: string
}

export type SendOutcome =
  | { ok: true; transport: EmailTransportName; messageId: string | null }
  /** permanent: retrying the same email cannot succeed (a malformed address or body). */
  | { ok: false; permanent: boolean; error: string }

export type EmailTransportName = 'resend' | 'outbox'

export interface EmailTransport {
  name: EmailTransportName
  send(email: OutgoingEmail): Promise<SendOutcome>
}

/** Statuses where the request itself is wrong; everything else (429, 5xx, network) may pass later. */
const permanentStatuses = new Set([400, 422])

export function createResendTransport(options: { apiKey: string; from: string }): EmailTransport {
  const resend = new Resend(options.apiKey)
  return {
    name: 'resend',
    async send(email) {
      try {
        const { data, error } = await resend.emails.send(
          { from: options.from, to: email.to, subject: email.subject, html: email.html, text: email.text },
          // Resend drops a repeated key for 24 hours, which covers a sender that crashed after
          // Resend accepted the email but before the outbox recorded it.
          { idempotencyKey: email.idempotencyKey, signal: AbortSignal.timeout(15_000) },
        )
        if (error) {
          const status = error.statusCode ?? null
          return { ok: false, permanent: status !== null && permanentStatuses.has(status), error: `Resend ${status ?? 'error'} ${error.name}: ${error.message}` }
        }
        return { ok: true, transport: 'resend', messageId: data.id }
      } catch (error) {
        return { ok: false, permanent: false, error: `Resend request failed: ${error instanceof Error ? error.message : String(error)}` }
      }
    },
  }
}

/** Keeps the email in the outbox table (the caller stores what was rendered) and sends nothing. */
export const devOutboxTransport: EmailTransport = {
  name: 'outbox',
  async send() {
    return { ok: true, transport: 'outbox', messageId: null }
  },
}

export function getEmailTransport(env: Env = getEnv()): EmailTransport {
  if (env.RESEND_API_KEY) return createResendTransport({ apiKey: env.RESEND_API_KEY, from: env.EMAIL_FROM })
  // The env schema already refuses this; repeated here because mail silently parked in a table
  // is the failure nobody notices.
  if (env.NODE_ENV === 'production') throw new Error('RESEND_API_KEY is required in production')
  return devOutboxTransport
}

/** The dev outbox and its pages exist only outside production. */
export function isDevOutboxEnabled(env: Env = getEnv()): boolean {
  return env.NODE_ENV !== 'production'
}
