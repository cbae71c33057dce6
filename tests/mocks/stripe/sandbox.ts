// The offline sandbox for a fresh clone (no Stripe keys): the tests' fake Stripe served over HTTP
// at STRIPE_API_URL, answering the real `stripe` clients (of the web server and of the background
// worker alike) with the same msw handlers the tests use, and a delivery loop that posts each
// event it queues, signed with the account's webhook secret, to the app's webhook route, retrying
// like Stripe does. The app's code cannot tell it from Stripe except by the keys and the address.
//
// It runs in the background worker's process (scripts/worker.ts), beside the event processor
// that reads from it most. The handlers are called directly (msw's getResponse) rather than
// through msw's interceptors, which would replace the process's global Request and Headers.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getResponse } from 'msw'
import type Stripe from 'stripe'
import { fiscalPartnerIds, getEnv, type Env, type FiscalPartnerId } from '#app/utils/env.server.ts'
import { getStripeAccount, getStripeMode } from '#app/utils/stripe.server.ts'
import { closeServer, readBody } from '../../../scripts/node-http.ts'
import { stripeHandlers } from './handlers.ts'
import { expireDueSessions } from './simulate.ts'
import { configureFakeStripe, signedWebhook, takeEvents, type FakeStripeAccount } from './state.ts'

export interface StripeSandbox {
  describe: string
  /** Where the fake Stripe answers: what STRIPE_API_URL names. */
  apiUrl: string
  stop(): Promise<void>
}

export interface StripeSandboxOptions {
  /** The app's origin: checkout pages live there and webhooks are posted there. */
  appUrl: string
  /** The port the fake Stripe listens on (127.0.0.1); by default STRIPE_API_URL's, else any free one. */
  port?: number
  env?: Env
  /** Waits between delivery attempts (Stripe backs off exponentially; a sandbox gives up sooner). */
  retryDelaysMs?: number[]
  tickMs?: number
  log?: Pick<Console, 'info' | 'warn' | 'error'>
}

interface Delivery {
  event: Stripe.Event
  partner: FiscalPartnerId
  attempts: number
  dueAt: number
}

const settlement = { us: 'USD', uk: 'GBP', nz: 'NZD' } as const

export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  const env = options.env ?? getEnv()
  if (env.NODE_ENV === 'production') throw new Error('The offline Stripe sandbox never runs in production.')
  if (getStripeMode(env) !== 'sandbox') throw new Error('Stripe keys are configured: the offline Stripe sandbox would shadow the real Stripe.')
  const appUrl = options.appUrl.replace(/\/$/, '')
  const delays = options.retryDelaysMs ?? [1_000, 2_000, 4_000, 8_000, 16_000, 32_000]
  const log = options.log ?? console

  // The same keys app/utils/stripe.server.ts hands the real client in sandbox mode.
  const accounts: FakeStripeAccount[] = fiscalPartnerIds.map((fiscalPartnerId) => {
    const { secretKey, webhookSecret } = getStripeAccount(fiscalPartnerId, env)
    return { key: secretKey, fiscalPartnerId, settlementCurrency: settlement[fiscalPartnerId], webhookSecret, sandboxBaseUrl: appUrl }
  })
  configureFakeStripe(accounts)
  const api = await serveFakeStripe(options.port ?? (env.STRIPE_API_URL ? Number(new URL(env.STRIPE_API_URL).port) : 0), log)

  const webhookUrl = (partner: FiscalPartnerId) => `${appUrl}/webhooks/stripe/${partner}`
  const pending: Delivery[] = []
  let busy: Promise<void> | null = null
  let stopped = false

  /** One attempt; returns why it failed, or null when the app answered 2xx. */
  async function deliver(item: Delivery): Promise<string | null> {
    const { body, headers } = signedWebhook(item.event, item.partner) // signed afresh on each attempt, like Stripe
    const started = Date.now()
    try {
      const response = await fetch(webhookUrl(item.partner), { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) })
      await response.text()
      if (!response.ok) return `answered ${response.status}`
      log.info(`Stripe sandbox: delivered ${item.event.type} ${item.event.id} to ${item.partner} (${response.status} in ${Date.now() - started} ms)`)
      return null
    } catch (error) {
      return `failed: ${error instanceof Error ? error.message : String(error)}`
    }
  }

  async function tick() {
    expireDueSessions()
    for (const partner of fiscalPartnerIds) {
      for (const event of takeEvents(partner)) pending.push({ event, partner, attempts: 0, dueAt: 0 })
    }
    // Oldest first; an event waiting to be retried never holds back the ones behind it.
    for (const item of [...pending]) {
      if (stopped) return
      if (item.dueAt > Date.now()) continue
      const failure = await deliver(item)
      item.attempts += 1
      const where = `${item.event.type} ${item.event.id} → ${webhookUrl(item.partner)}`
      if (failure === null) {
        pending.splice(pending.indexOf(item), 1)
      } else if (item.attempts > delays.length) {
        pending.splice(pending.indexOf(item), 1)
        log.error(`Stripe sandbox: gave up on ${where} after ${item.attempts} attempts (${failure})`)
      } else {
        const delay = delays[item.attempts - 1]!
        item.dueAt = Date.now() + delay
        log.warn(`Stripe sandbox: ${where} ${failure}; retrying in ${delay / 1000}s`)
      }
    }
  }

  const timer = setInterval(() => {
    if (busy || stopped) return
    busy = tick()
      .catch((error: unknown) => log.error('Stripe sandbox: delivery loop failed', error))
      .finally(() => {
        busy = null
      })
  }, options.tickMs ?? 250)

  return {
    describe: `Stripe: offline sandbox (no real money moves; fake Stripe at ${api.url} for ${fiscalPartnerIds.join(', ')}; signed webhooks → ${appUrl}/webhooks/stripe/<partner>)`,
    apiUrl: api.url,
    async stop() {
      stopped = true
      clearInterval(timer)
      await busy
      await api.close()
    },
  }
}

/** Stripe's API on 127.0.0.1: each request is answered by the msw handlers as if sent to api.stripe.com. */
async function serveFakeStripe(port: number, log: Pick<Console, 'error'>) {
  const server = http.createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        const headers = Object.entries(req.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)] as [string, string]]))
        const request = new Request(`https://api.stripe.com${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined })
        const response = await getResponse(stripeHandlers, request)
        // The handlers end with Stripe's 404 for any unknown API path, so there is always one.
        if (!response) throw new Error(`no handler answered ${req.method} ${req.url}`)
        res.writeHead(response.status, Object.fromEntries(response.headers))
        res.end(Buffer.from(await response.arrayBuffer()))
      })
      .catch((error: unknown) => {
        log.error('Stripe sandbox: the fake Stripe failed', error)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { type: 'api_error', message: 'The offline sandbox failed; see the server log.' } }))
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  server.keepAliveTimeout = 60_000
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  }
}
