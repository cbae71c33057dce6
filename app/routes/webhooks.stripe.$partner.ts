// Stripe webhooks, one endpoint per fiscal partner (each its own Stripe account and signing
// secret): checkout.session.*, invoice.paid / payment_failed, customer.subscription.updated /
// deleted, refund.* and charge.refunded, charge.dispute.*, payout.paid / failed.
// The Node server answers these POSTs before Remix with the same function (decision 0208); this
// route is that function behind Remix, for the tests and any other server the build runs in.
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { readBytesWithin } from '#app/utils/request-body.server.ts'
import { receiveStripeWebhook, type WebhookReply } from '#app/utils/stripe-webhook.server.ts'

const respond = ({ status, body, headers }: WebhookReply) => new Response(body, { status, headers })

const receive = async ({ request, params }: LoaderFunctionArgs | ActionFunctionArgs) =>
  respond(
    await receiveStripeWebhook({
      method: request.method,
      partner: params.partner,
      signature: request.headers.get('stripe-signature'),
      readBody: async (maxBytes) => (await readBytesWithin(request, maxBytes)).toString('utf8'),
    }),
  )

export const loader = receive
export const action = receive
