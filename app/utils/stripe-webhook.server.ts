// What a Stripe webhook endpoint answers, independent of the HTTP framework in front of it: the
// Remix route (app/routes/webhooks.stripe.$partner.ts) and the Node server's direct lane for
// webhook POSTs (scripts/web-server.ts, decision 0208) both hand the raw request here.
import { z } from 'zod'
import { receiveStripeEvent } from '#app/models/stripe-events.server.ts'
import { fiscalPartnerIds } from './env.server.ts'
import { BodyTooLarge } from './request-body.server.ts'
import { constructStripeEvent } from './stripe.server.ts'

const PartnerSchema = z.enum(fiscalPartnerIds)

export interface WebhookRequest {
  method: string
  /** The path segment after /webhooks/stripe/, as sent. */
  partner: string | undefined
  signature: string | null
  /**
   * Read only for a POST to a known partner, so nothing else costs a body read. Rejects with
   * BodyTooLarge past `maxBytes`.
   */
  readBody: (maxBytes: number) => Promise<string>
}

/** Stripe's events are tens of kilobytes; a body past this is not one. */
const maxWebhookBytes = 1024 * 1024

export interface WebhookReply {
  status: number
  body: string
  headers: Record<string, string>
}

const text = (status: number, body: string, headers: Record<string, string> = {}): WebhookReply => ({
  status,
  body,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
})

/**
 * Verifies the signature on the raw body and stores the event in the inbox (decision 0207): 404 for
 * an unknown partner, 405 for anything but POST, 400 for a missing or bad signature, 413 for a body
 * past 1 MiB, each writing nothing; otherwise 200 with whether the event was new.
 */
export async function receiveStripeWebhook(request: WebhookRequest): Promise<WebhookReply> {
  const partner = PartnerSchema.safeParse(request.partner)
  if (!partner.success) return text(404, 'Unknown fiscal partner')
  if (request.method !== 'POST') return text(405, 'Stripe webhooks are POSTed here.', { allow: 'POST' })
  if (!request.signature) return text(400, 'Missing Stripe-Signature header')
  // The signature covers the exact bytes Stripe sent: verify the raw text, never re-serialised JSON.
  let body
  try {
    body = await request.readBody(maxWebhookBytes)
  } catch (error) {
    if (error instanceof BodyTooLarge) return text(413, `A webhook body is at most ${maxWebhookBytes} bytes`, { connection: 'close' })
    throw error
  }
  let event
  try {
    event = constructStripeEvent(partner.data, body, request.signature)
  } catch (error) {
    return text(400, `Webhook signature verification failed: ${error instanceof Error ? error.message : 'invalid'}`)
  }
  // Stored, then applied by the event processor (a worker woken by NOTIFY): Stripe's 200 never
  // waits on our reads from Stripe or on the ledger.
  const outcome = await receiveStripeEvent(partner.data, event, body)
  return { status: 200, body: JSON.stringify({ received: true, outcome }), headers: { 'content-type': 'application/json' } }
}
