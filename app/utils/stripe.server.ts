// One Stripe client per fiscal partner: each is its own legal entity with its own account.
// Without keys (development and test only) the clients point at the offline sandbox: the same
// code path, with sandbox keys that the in-process fake Stripe answers. Nothing else differs.
import Stripe from 'stripe'
import { fiscalPartnerIds, getEnv, type Env, type FiscalPartnerId } from './env.server.ts'

/** Pinned: the webhook endpoints must be created with the same version (stripe.md §1.3). */
export const stripeApiVersion = '2026-10-28.endive' as const

export type StripeMode = 'live' | 'sandbox'

export function isFiscalPartnerId(value: string): value is FiscalPartnerId {
  return (fiscalPartnerIds as readonly string[]).includes(value)
}

export function getStripeMode(env: Env = getEnv()): StripeMode {
  return fiscalPartnerIds.some((id) => env[`STRIPE_SECRET_KEY_${upper(id)}`]) ? 'live' : 'sandbox'
}

export interface StripeAccountConfig {
  fiscalPartnerId: FiscalPartnerId
  secretKey: string
  webhookSecret: string
}

/** The keys for a fiscal partner; in the sandbox, fixed keys the fake Stripe recognises. */
export function getStripeAccount(fiscalPartnerId: FiscalPartnerId, env: Env = getEnv()): StripeAccountConfig {
  if (getStripeMode(env) === 'sandbox') {
    if (env.NODE_ENV === 'production') throw new Error('The offline Stripe sandbox never runs in production')
    return { fiscalPartnerId, secretKey: `sk_test_sandbox_${fiscalPartnerId}`, webhookSecret: `whsec_sandbox_${fiscalPartnerId}` }
  }
  return {
    fiscalPartnerId,
    secretKey: env[`STRIPE_SECRET_KEY_${upper(fiscalPartnerId)}`]!,
    webhookSecret: env[`STRIPE_WEBHOOK_SECRET_${upper(fiscalPartnerId)}`]!,
  }
}

/**
 * Where the clients send their requests: the network, or (only in sandbox mode) a function the
 * offline sandbox supplies that answers in-process. Client configuration, like the keys: the code
 * that calls Stripe is the same either way. Kept on globalThis because the server build bundles
 * its own copy of this module beside the one the workers (and the sandbox) import.
 */
const transportSlot = Symbol.for('lift-giving.stripe-transport')
type TransportHolder = { [transportSlot]?: typeof fetch }

export function setStripeTransport(fetchFn: typeof fetch | undefined, env: Env = getEnv()) {
  if (fetchFn && getStripeMode(env) !== 'sandbox') throw new Error('Stripe keys are configured: requests go to Stripe, not to a stand-in')
  ;(globalThis as TransportHolder)[transportSlot] = fetchFn
}

/** What calls to Stripe's API go through: the sandbox's stand-in when it supplied one, else fetch. */
export function stripeFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return ((globalThis as TransportHolder)[transportSlot] ?? fetch)(input, init)
}

const clients = new Map<string, { client: Stripe; transport: typeof fetch | undefined }>()

export function getStripe(fiscalPartnerId: FiscalPartnerId): Stripe {
  const env = getEnv()
  const { secretKey } = getStripeAccount(fiscalPartnerId, env)
  const transport = (globalThis as TransportHolder)[transportSlot]
  let entry = clients.get(secretKey)
  if (!entry || entry.transport !== transport) {
    const client = new Stripe(secretKey, {
      apiVersion: stripeApiVersion,
      // fetch is what every HTTP interceptor handles best (stripe.md §3.1).
      httpClient: Stripe.createFetchHttpClient(transport),
      maxNetworkRetries: env.NODE_ENV === 'production' ? 2 : 0,
      timeout: 20_000,
      appInfo: { name: 'lift-giving' },
    })
    entry = { client, transport }
    clients.set(secretKey, entry)
  }
  return entry.client
}

/** Verifies a webhook's signature on its raw body; throws Stripe's verification error if it fails. */
export function constructStripeEvent(fiscalPartnerId: FiscalPartnerId, rawBody: string, signature: string): Stripe.Event {
  const { webhookSecret } = getStripeAccount(fiscalPartnerId)
  return Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret)
}

function upper<T extends string>(value: T): Uppercase<T> {
  return value.toUpperCase() as Uppercase<T>
}
