// The real server's webhook lane (scripts/web-server.ts answers /webhooks/stripe/* before express
// and Remix): what Stripe's sender gets for a good event, a redelivery and every kind of bad
// request, and that a refused request stores nothing. The browser tests' gifts also arrive through it.
// And the processes around it: a server whose worker died stops instead of storing events nobody
// applies, and one whose web process died stops rather than serve half the port.
import pg from 'pg'
import type Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { parseEnv } from '#app/utils/env.server.ts'
import { getStripeAccount } from '#app/utils/stripe.server.ts'
import { signedWebhook } from '#tests/mocks/stripe/state.ts'
import { startAppProcess } from '../../scripts/app-process.ts'

const app = inject('app')
// The server runs the offline sandbox, so its US endpoint checks the sandbox's US secret.
const secret = getStripeAccount('us', parseEnv({ NODE_ENV: 'test' })).webhookSecret

/** An event signed as Stripe's sender would (the fake Stripe runs in the server's worker, not here). */
function signed(id: string, options: { secret?: string } = {}) {
  const event = { id, object: 'event', type: 'customer.created', api_version: '2026-10-28.endive', created: 1_790_000_000, livemode: false, data: { object: { id: `cus_${id}`, object: 'customer' } } }
  return signedWebhook(event as unknown as Stripe.Event, 'us', { secret: options.secret ?? secret })
}

describe.skipIf(!app)('the server answers Stripe webhooks', () => {
  let database: pg.Client
  const stored = async () => (await database.query<{ n: number }>(`select count(*)::int as n from stripe_events`)).rows[0]!.n
  const url = (partner = 'us') => `${app!.baseUrl}/webhooks/stripe/${partner}`

  beforeAll(async () => {
    database = new pg.Client(app!.databaseUrl)
    await database.connect()
  })
  afterAll(() => database?.end())

  test('a signed event is stored once: 200 queued, then 200 duplicate', async () => {
    const id = `evt_e2e_${Date.now()}`
    const before = await stored()
    for (const outcome of ['queued', 'duplicate']) {
      const response = await fetch(url(), { method: 'POST', ...signed(id) })
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ received: true, outcome })
    }
    expect(await stored()).toBe(before + 1)
  })

  test.each([
    ['a bad signature', 400, () => fetch(url(), { method: 'POST', ...signed('evt_e2e_bad', { secret: 'whsec_someone_else' }) }), /signature verification failed/],
    ['no signature', 400, () => fetch(url(), { method: 'POST', body: signed('evt_e2e_nosig').body }), /Missing Stripe-Signature/],
    ['an unknown partner', 404, () => fetch(url('xx'), { method: 'POST', ...signed('evt_e2e_xx') }), /Unknown fiscal partner/],
    ['a GET', 405, () => fetch(url()), /POSTed here/],
    ['a body over 1 MiB', 413, () => fetch(url(), { method: 'POST', headers: signed('evt_e2e_big').headers, body: 'x'.repeat(1024 * 1024 + 1) }), /at most/],
  ])('%s gets %i and stores nothing', async (_name, status, send, message) => {
    const before = await stored()
    const response = await send()
    expect(response.status).toBe(status)
    expect(await response.text()).toMatch(message)
    expect(await stored()).toBe(before)
  })
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(!app)('the background worker', () => {
  test('if it dies, the server stops too, saying why, rather than taking events it will never apply', async () => {
    // A server of its own on the same database, so the one the other tests use keeps running.
    const second = await startAppProcess({ env: { NODE_ENV: 'test', DATABASE_URL: app!.databaseUrl } })
    try {
      const pid = Number(/background worker \(process (\d+)/.exec(second.output())?.[1])
      expect(pid).toBeGreaterThan(0)
      process.kill(pid, 'SIGKILL')
      await expect
        .poll(() => fetch(`${second.baseUrl}/baseline`).then(() => 'up', () => 'down'), { timeout: 20_000 })
        .toBe('down')
      expect(second.output()).toContain('The background worker stopped (SIGKILL); stopping the server.')
    } finally {
      await second.stop()
    }
  })
})

describe.skipIf(!app)('several web processes (WEB_CONCURRENCY)', () => {
  test('share the port; if one dies, the server stops, saying why, and leaves no process behind', async () => {
    const second = await startAppProcess({ env: { NODE_ENV: 'test', DATABASE_URL: app!.databaseUrl, WEB_CONCURRENCY: '2' } })
    try {
      // The port answers as soon as the first process listens; the banner follows once all do.
      const banner = () => /web: 2 processes \((\d+), (\d+)\)/.exec(second.output())
      await expect.poll(banner, { timeout: 20_000 }).not.toBeNull()
      const web = banner()
      const [first, other] = [Number(web![1]), Number(web![2])]
      const worker = Number(/background worker \(process (\d+)/.exec(second.output())?.[1])
      // Pages at once open several connections, which the primary hands to the processes in turn.
      const pages = await Promise.all(Array.from({ length: 6 }, () => fetch(`${second.baseUrl}/baseline`).then((r) => r.status)))
      expect(pages).toEqual([200, 200, 200, 200, 200, 200])

      process.kill(first, 'SIGKILL')
      await expect.poll(() => second.output(), { timeout: 20_000 }).toContain('A web process stopped (SIGKILL); stopping the server.')
      await expect
        .poll(() => fetch(`${second.baseUrl}/baseline`).then(() => 'up', () => 'down'), { timeout: 20_000 })
        .toBe('down')
      await expect.poll(() => [other, worker].filter(alive), { timeout: 20_000 }).toEqual([])
    } finally {
      await second.stop()
    }
  })
})
