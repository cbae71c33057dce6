// The offline sandbox: its fake Stripe answers the real client over HTTP at its own address, and
// its delivery loop brings every event to the app's webhook route signed with the account's
// secret, retrying failed deliveries with backoff without one event waiting for a retry holding
// back the others. (Here, not in integration, whose msw would intercept the client instead.)
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Stripe from 'stripe'
import { expect, test } from 'vitest'
import { getEnv, parseEnv } from '#app/utils/env.server.ts'
import { getStripe, getStripeMode } from '#app/utils/stripe.server.ts'
import { startStripeSandbox } from '#tests/mocks/stripe/sandbox.ts'
import { completeCheckout } from '#tests/mocks/stripe/simulate.ts'
import { readBody } from '../../scripts/node-http.ts'

test.skipIf(getStripeMode() !== 'sandbox')('delivers signed events in order and retries failures without blocking the rest', async () => {
  const received: { partner: string; type: string; id: string }[] = []
  let failuresLeft = 2
  const app = http.createServer((req, res) => {
    void readBody(req).then((raw) => {
      const body = raw.toString('utf8')
      const partner = req.url!.split('/').pop()!
      // Throws unless the signature matches this partner's sandbox secret.
      const event = Stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), `whsec_sandbox_${partner}`)
      if (event.type === 'charge.succeeded' && failuresLeft-- > 0) return void res.writeHead(500).end()
      received.push({ partner, type: event.type, id: event.id })
      res.writeHead(200).end('{}')
    })
  })
  await new Promise<void>((resolve) => app.listen(0, resolve))
  const appUrl = `http://localhost:${(app.address() as AddressInfo).port}`
  const logs: string[] = []
  const log = { info: (line: string) => logs.push(line), warn: (line: string) => logs.push(line), error: (line: string) => logs.push(line) }
  const sandbox = await startStripeSandbox({ appUrl, retryDelaysMs: [50, 100, 200], tickMs: 20, log })
  try {
    expect(sandbox.describe).toMatch(/^Stripe: offline sandbox \(/)
    expect(sandbox.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const session = await getStripe('nz', { ...getEnv(), STRIPE_API_URL: sandbox.apiUrl }).checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'nzd', unit_amount: 5000, product_data: { name: 'Gift' } } }],
      expires_at: Math.floor(Date.now() / 1000) + 3600,
    })
    expect(session.url).toBe(`${appUrl}/sandbox/checkout/nz/${session.id}`)
    const events = completeCheckout(session.id, { outcome: 'paid' })
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(3)
    expect(received.map((r) => r.type)).toEqual(['payment_intent.succeeded', 'checkout.session.completed', 'charge.succeeded'])
    expect(new Set(received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)))
    expect(received.every((r) => r.partner === 'nz')).toBe(true)
    expect(logs.filter((line) => line.includes('retrying in'))).toHaveLength(2)
  } finally {
    await sandbox.stop()
    await new Promise((resolve) => app.close(resolve))
  }
})

test('refuses to run in production', async () => {
  await expect(startStripeSandbox({ appUrl: 'http://localhost:3000', env: { ...getEnv(), NODE_ENV: 'production' } })).rejects.toThrow(/never runs in production/)
})

test('with Stripe keys configured, nothing can stand in for Stripe', () => {
  const keys = Object.fromEntries(
    ['US', 'UK', 'NZ'].flatMap((p) => [[`STRIPE_SECRET_KEY_${p}`, `sk_test_${p}`], [`STRIPE_WEBHOOK_SECRET_${p}`, `whsec_${p}`]]),
  )
  expect(parseEnv({ ...keys }).STRIPE_API_URL).toBeUndefined()
  expect(() => parseEnv({ ...keys, STRIPE_API_URL: 'http://127.0.0.1:12111' })).toThrow(/STRIPE_API_URL is only for the offline sandbox/)
  expect(parseEnv({ STRIPE_API_URL: 'http://127.0.0.1:12111' }).STRIPE_API_URL).toBe('http://127.0.0.1:12111')
})
