// One Stripe client per fiscal partner: each is its own legal entity with its own account.
// Without keys (development and test only) the clients point at the offline sandbox: the same
// code path, with sandbox keys that the fake Stripe answers at STRIPE_API_URL (the tests' msw
// intercepts Stripe's own address instead). Nothing else differs.
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

/** Stripe's API, or (only in sandbox mode, set by the server) the offline sandbox's fake Stripe. */
export function getStripeApiUrl(env: Env = getEnv()): string {
  return (env.STRIPE_API_URL ?? 'https://api.stripe.com').replace(/\/$/, '')
}

const clients = new Map<string, Stripe>()

/** The fiscal partner's client. Only its key and, in the sandbox, the API's address differ. */
export function getStripe(fiscalPartnerId: FiscalPartnerId, env: Env = getEnv()): Stripe {
  const { secretKey } = getStripeAccount(fiscalPartnerId, env)
  const apiUrl = getStripeApiUrl(env)
  const cacheKey = `${secretKey} ${apiUrl}`
  let client = clients.get(cacheKey)
  if (!client) {
    const api = new URL(apiUrl)
    client = new Stripe(secretKey, {
      apiVersion: stripeApiVersion,
      host: api.hostname,
      port: api.port || (api.protocol === 'https:' ? 443 : 80),
      protocol: api.protocol === 'https:' ? 'https' : 'http',
      // fetch is what every HTTP interceptor handles best (stripe.md §3.1).
      httpClient: Stripe.createFetchHttpClient(),
      maxNetworkRetries: env.NODE_ENV === 'production' ? 2 : 0,
      timeout: 20_000,
      appInfo: { name: 'lift-giving' },
    })
    clients.set(cacheKey, client)
  }
  return client
}

/** Verifies a webhook's signature on its raw body; throws Stripe's verification error if it fails. */
export function constructStripeEvent(fiscalPartnerId: FiscalPartnerId, rawBody: string, signature: string): Stripe.Event {
  const { webhookSecret } = getStripeAccount(fiscalPartnerId)
  return Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret)
}

function upper<T extends string>(value: T): Uppercase<T> {
  return value.toUpperCase() as Uppercase<T>
}
