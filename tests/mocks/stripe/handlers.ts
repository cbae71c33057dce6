// msw handlers for https://api.stripe.com/v1/*: the fake Stripe over HTTP, answering the real
// `stripe` client. Authentication picks the account by API key; POSTs honour Idempotency-Key;
// unknown parameters, expand paths and URLs fail as they would at Stripe.
import { http, HttpResponse, type HttpHandler } from 'msw'
import type Stripe from 'stripe'
import { expand, expandPaths, hash, int, list, parseParams, str, type Params, type Virtuals } from './api.ts'
import { createSession, metadata, sessionCreateParams, sessionLineItems } from './checkout.ts'
import { completeCheckout, endSubscription, expireSession, issueRefund, settleAsyncPayment, type CheckoutOutcome } from './simulate.ts'
import {
  accountForKey,
  allObjects,
  fakeStripeApiVersion,
  find,
  invalid,
  mustFind,
  newId,
  StripeApiError,
  unix,
  type AccountState,
  type FakeObject,
  type FakeObjectType,
} from './state.ts'

const origin = 'https://api.stripe.com'
const paging = ['expand', 'limit', 'starting_after', 'ending_before']

interface Context {
  account: AccountState
  params: Params
  id: string
}

type Method = 'get' | 'post' | 'delete'

function route(method: Method, path: string, allowed: string[], handle: (ctx: Context) => unknown): HttpHandler {
  return http[method](`${origin}${path}`, async ({ request, params: pathParams }) => {
    const headers = { 'request-id': newId('req', 14), 'stripe-version': fakeStripeApiVersion }
    try {
      const account = authenticate(request)
      const url = new URL(request.url)
      const body = method === 'get' ? '' : await request.text()
      const search = new URLSearchParams([...url.searchParams, ...new URLSearchParams(body)])
      const params = parseParams(search)
      for (const key of Object.keys(params)) {
        if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown')
      }
      const key = method === 'post' ? request.headers.get('idempotency-key') : null
      const fingerprint = [...search].map(([k, v]) => `${k}=${v}`).sort().join('&')
      const routeName = `${method.toUpperCase()} ${url.pathname}`
      const previous = key ? account.idempotency.get(key) : undefined
      if (key && previous) {
        if (previous.route !== routeName || previous.fingerprint !== fingerprint) {
          throw new StripeApiError(
            400,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            { type: 'idempotency_error' },
          )
        }
        return HttpResponse.json(previous.body as Record<string, unknown>, { status: previous.status, headers: { ...headers, 'idempotent-replayed': 'true' } })
      }
      const result = handle({ account, params, id: String(pathParams.id ?? '') })
      // Stripe saves a result only once the endpoint ran; failed validation is not saved.
      if (key) account.idempotency.set(key, { route: routeName, fingerprint, status: 200, body: result })
      return HttpResponse.json(result as Record<string, unknown>, { headers })
    } catch (error) {
      if (error instanceof StripeApiError) return HttpResponse.json(error.toJSON(), { status: error.status, headers })
      // A bug in the fake itself: say so loudly (tests fail on console.error) and answer like a Stripe 500.
      console.error('fake Stripe failed on', request.method, request.url, error)
      const message = `The fake Stripe failed: ${error instanceof Error ? error.message : String(error)}`
      return HttpResponse.json(new StripeApiError(500, message, { type: 'api_error' }).toJSON(), { status: 500, headers })
    }
  })
}

function authenticate(request: Request): AccountState {
  const version = request.headers.get('stripe-version')
  const header = request.headers.get('authorization') ?? ''
  const key = /^Bearer (.+)$/.exec(header)?.[1]
  if (!key) {
    throw new StripeApiError(
      401,
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    )
  }
  const account = accountForKey(key)
  if (!account) throw new StripeApiError(401, `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`)
  if (version && version !== fakeStripeApiVersion) {
    throw invalid(`The fake Stripe only speaks API version ${fakeStripeApiVersion}; this request asked for ${version}.`)
  }
  return account
}

/** Fields Stripe includes only on request: a session's line items, an invoice's payments. */
const virtuals: Virtuals = (account, object, field) => {
  if (object.object === 'checkout.session' && field === 'line_items') {
    return list(`/v1/checkout/sessions/${object.id}/line_items`, sessionLineItems(account, object.id), { limit: '100' })
  }
  if (object.object === 'charge' && field === 'refunds') {
    return list('/v1/refunds', allObjects(account, 'refund').filter((r) => r.charge === object.id), { limit: '100' })
  }
  if (object.object === 'invoice' && field === 'payments') {
    return list(`/v1/invoices/${object.id}/payments`, invoicePayments(account, { invoice: object.id }), { limit: '100' })
  }
  return undefined
}

function retrieve(type: FakeObjectType, path: string): HttpHandler {
  return route('get', path, ['expand'], ({ account, params, id }) => expand(account, mustFind(account, type, id), expandPaths(params), virtuals))
}

function listOf<T extends FakeObject>(path: string, filters: string[], items: (account: AccountState, params: Params) => T[]): HttpHandler {
  return route('get', path, [...paging, ...filters], ({ account, params }) => expand(account, list(path, items(account, params), params), expandPaths(params), virtuals))
}

/** Keeps objects whose field equals the filter parameter, when it is given. */
function where<T extends FakeObject>(items: T[], params: Params, fields: Record<string, (item: T) => unknown>): T[] {
  return items.filter((item) => Object.entries(fields).every(([param, get]) => params[param] === undefined || ref(get(item)) === str(params, param)))
}

const ref = (value: unknown) => (value && typeof value === 'object' && 'id' in value ? (value as { id: string }).id : value)

function invoicePayments(account: AccountState, params: Params): Stripe.InvoicePayment[] {
  const payment = hash(params, 'payment')
  if (payment && str(payment, 'type', 'payment[type]') !== 'payment_intent') {
    throw invalid('The fake Stripe only filters invoice payments by payment[type]=payment_intent.', 'payment[type]')
  }
  const intent = payment ? str(payment, 'payment_intent', 'payment[payment_intent]') : undefined
  return allObjects(account, 'invoice_payment').filter(
    (p) => (params.invoice === undefined || p.invoice === str(params, 'invoice')) && (intent === undefined || p.payment.payment_intent === intent),
  )
}

export const stripeHandlers: HttpHandler[] = [
  // Checkout
  route('post', '/v1/checkout/sessions', sessionCreateParams, ({ account, params }) => expand(account, createSession(account, params), expandPaths(params), virtuals)),
  retrieve('checkout.session', '/v1/checkout/sessions/:id'),
  listOf('/v1/checkout/sessions', ['payment_intent', 'subscription', 'customer', 'status'], (account, params) =>
    where(allObjects(account, 'checkout.session'), params, { payment_intent: (s) => s.payment_intent, subscription: (s) => s.subscription, customer: (s) => s.customer, status: (s) => s.status }),
  ),
  route('get', '/v1/checkout/sessions/:id/line_items', paging, ({ account, params, id }) => {
    mustFind(account, 'checkout.session', id)
    return expand(account, list(`/v1/checkout/sessions/${id}/line_items`, sessionLineItems(account, id), params), expandPaths(params), virtuals)
  }),
  route('post', '/v1/checkout/sessions/:id/expire', ['expand'], ({ account, params, id }) => {
    const session = mustFind(account, 'checkout.session', id)
    expireSession(account, session, unix())
    return expand(account, session, expandPaths(params), virtuals)
  }),

  // Payments
  retrieve('payment_intent', '/v1/payment_intents/:id'),
  retrieve('charge', '/v1/charges/:id'),
  listOf('/v1/charges', ['payment_intent', 'customer'], (account, params) =>
    where(allObjects(account, 'charge'), params, { payment_intent: (c) => c.payment_intent, customer: (c) => c.customer }),
  ),
  retrieve('balance_transaction', '/v1/balance_transactions/:id'),
  listOf('/v1/balance_transactions', ['payout', 'source', 'type', 'currency'], (account, params) =>
    where(allObjects(account, 'balance_transaction'), params, {
      payout: (bt) => account.paidOut.get(bt.id),
      source: (bt) => bt.source,
      type: (bt) => bt.type,
      currency: (bt) => bt.currency,
    }),
  ),
  retrieve('refund', '/v1/refunds/:id'),
  listOf('/v1/refunds', ['charge', 'payment_intent'], (account, params) =>
    where(allObjects(account, 'refund'), params, { charge: (r) => r.charge, payment_intent: (r) => r.payment_intent }),
  ),
  route('post', '/v1/refunds', ['charge', 'payment_intent', 'amount', 'reason', 'metadata', 'expand'], ({ account, params }) => {
    const chargeId = str(params, 'charge')
    const intentId = str(params, 'payment_intent')
    if (!chargeId && !intentId) throw invalid('One of `charge` or `payment_intent` is required.', 'charge', 'parameter_missing')
    const charge = chargeId
      ? mustFind(account, 'charge', chargeId)
      : mustFind(account, 'charge', String(ref(mustFind(account, 'payment_intent', intentId!).latest_charge) ?? ''))
    const reason = str(params, 'reason') ?? null
    if (reason !== null && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) {
      throw invalid('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', 'reason')
    }
    const { refund } = issueRefund(account, charge, {
      amount: int(params, 'amount'),
      reason: reason as Stripe.Refund.Reason | null,
      metadata: metadata(params.metadata, 'metadata'),
      at: unix(),
    })
    return expand(account, refund, expandPaths(params), virtuals)
  }),
  retrieve('dispute', '/v1/disputes/:id'),
  listOf('/v1/disputes', ['charge', 'payment_intent'], (account, params) =>
    where(allObjects(account, 'dispute'), params, { charge: (d) => d.charge, payment_intent: (d) => d.payment_intent }),
  ),
  retrieve('payout', '/v1/payouts/:id'),
  retrieve('customer', '/v1/customers/:id'),
  retrieve('event', '/v1/events/:id'),

  // Billing
  retrieve('invoice', '/v1/invoices/:id'),
  listOf('/v1/invoices', ['subscription', 'customer', 'status'], (account, params) =>
    where(allObjects(account, 'invoice'), params, {
      subscription: (i) => i.parent?.subscription_details?.subscription,
      customer: (i) => i.customer,
      status: (i) => i.status,
    }),
  ),
  listOf('/v1/invoice_payments', ['invoice', 'payment'], invoicePayments),
  retrieve('invoice_payment', '/v1/invoice_payments/:id'),
  retrieve('subscription', '/v1/subscriptions/:id'),
  route('delete', '/v1/subscriptions/:id', ['expand', 'invoice_now', 'prorate', 'cancellation_details'], ({ account, params, id }) => {
    const subscription = mustFind(account, 'subscription', id)
    endSubscription(account, subscription, unix())
    return expand(account, subscription, expandPaths(params), virtuals)
  }),

  // The offline sandbox's checkout page drives the simulations through the same API key.
  route('post', '/v1/__sandbox/checkout_sessions/:id/complete', ['outcome', 'email', 'name', 'country'], ({ account, params, id }) => {
    mustFind(account, 'checkout.session', id)
    const outcome = str(params, 'outcome') as CheckoutOutcome | undefined
    if (outcome !== 'paid' && outcome !== 'processing' && outcome !== 'declined') {
      throw invalid('outcome must be paid, processing or declined', 'outcome')
    }
    const events = completeCheckout(id, { outcome, email: str(params, 'email') || undefined, name: str(params, 'name') || undefined, country: str(params, 'country') || undefined })
    return { object: 'sandbox.result', declined: outcome === 'declined', events: events.map((e) => e.type), session: find(account, 'checkout.session', id) }
  }),
  route('post', '/v1/__sandbox/checkout_sessions/:id/settle', ['succeeded'], ({ account, params, id }) => {
    mustFind(account, 'checkout.session', id)
    const succeeded = str(params, 'succeeded')
    if (succeeded !== 'true' && succeeded !== 'false') throw invalid('succeeded must be true or false', 'succeeded')
    const events = settleAsyncPayment(id, succeeded === 'true')
    return { object: 'sandbox.result', declined: false, events: events.map((e) => e.type), session: find(account, 'checkout.session', id) }
  }),

  // Anything else under the API: Stripe's 404 for an unknown URL, naming the fake.
  http.all(`${origin}/*`, ({ request }) => {
    const url = new URL(request.url)
    return HttpResponse.json(
      new StripeApiError(404, `Unrecognized request URL (${request.method}: ${url.pathname}). The fake Stripe (tests/mocks/stripe/handlers.ts) does not implement it.`).toJSON(),
      { status: 404 },
    )
  }),
]
