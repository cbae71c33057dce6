// Stripe webhooks, one endpoint per fiscal partner (each its own Stripe account and signing
// secret): checkout.session.*, invoice.paid / payment_failed, customer.subscription.updated /
// deleted, refund.* and charge.refunded, charge.dispute.*, payout.paid / failed.
import type { ActionFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { receiveStripeEvent } from '#app/models/stripe-events.server.ts'
import { fiscalPartnerIds } from '#app/utils/env.server.ts'
import { constructStripeEvent } from '#app/utils/stripe.server.ts'

const ParamsSchema = z.object({ partner: z.enum(fiscalPartnerIds) })

export async function loader() {
  return new Response('Stripe webhooks are POSTed here.', { status: 405, headers: { Allow: 'POST' } })
}

export async function action({ request, params }: ActionFunctionArgs) {
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success) return new Response('Unknown fiscal partner', { status: 404 })
  if (request.method !== 'POST') return new Response('Method not allowed', { status: 405, headers: { Allow: 'POST' } })
  const signature = request.headers.get('stripe-signature')
  if (!signature) return new Response('Missing Stripe-Signature header', { status: 400 })
  // The signature covers the exact bytes Stripe sent: verify the raw text, never re-serialised JSON.
  const body = await request.text()
  let event
  try {
    event = constructStripeEvent(parsed.data.partner, body, signature)
  } catch (error) {
    return new Response(`Webhook signature verification failed: ${error instanceof Error ? error.message : 'invalid'}`, { status: 400 })
  }
  // Stored, then applied by the event processor (a worker woken by NOTIFY): Stripe's 200 never
  // waits on our reads from Stripe or on the ledger.
  const outcome = await receiveStripeEvent(parsed.data.partner, event)
  return Response.json({ received: true, outcome })
}
