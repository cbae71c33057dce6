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
import { startAppProcess, type AppProcess } from '../../scripts/app-process.ts'

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

/**
 * A server of its own on the same database, so the one the other tests use keeps running, with
 * the process ids its banner lists (the banner follows the port answering, so it is waited for).
 */
async function startSecondServer(env: Record<string, string> = {}) {
  const server = await startAppProcess({ env: { NODE_ENV: 'test', DATABASE_URL: app!.databaseUrl, ...env } })
  const banner = () => /web: (?:this process \((\d+)\)|\d+ processes \(([\d, ]+)\))[\s\S]*background worker \(process (\d+)/.exec(server.output())
  await expect.poll(banner, { timeout: 20_000 }).not.toBeNull()
  const [, single, several, worker] = banner()!
  return { server, web: (single ?? several!).split(', ').map(Number), worker: Number(worker) }
}

/** The server says why it stops, its port goes down, and none of `pids` is left running. */
async function expectStopped(server: AppProcess, reason: string, pids: number[]) {
  await expect.poll(() => server.output(), { timeout: 20_000 }).toContain(reason)
  await expect
    .poll(() => fetch(`${server.baseUrl}/baseline`).then(() => 'up', () => 'down'), { timeout: 20_000 })
    .toBe('down')
  await expect.poll(() => pids.filter(alive), { timeout: 20_000 }).toEqual([])
}

describe.skipIf(!app)('the background worker', () => {
  test('if it dies, the server stops too, saying why, rather than taking events it will never apply', async () => {
    const { server, web, worker } = await startSecondServer()
    try {
      process.kill(worker, 'SIGKILL')
      await expectStopped(server, 'The background worker stopped (SIGKILL); stopping the server.', web)
    } finally {
      await server.stop()
    }
  })
})

describe.skipIf(!app)('several web processes (WEB_CONCURRENCY)', () => {
  test('share the port; if one dies, the server stops, saying why, and leaves no process behind', async () => {
    const { server, web, worker } = await startSecondServer({ WEB_CONCURRENCY: '2' })
    try {
      expect(web).toHaveLength(2)
      // Pages at once open several connections, which the primary hands to the processes in turn.
      const pages = await Promise.all(Array.from({ length: 6 }, () => fetch(`${server.baseUrl}/baseline`).then((r) => r.status)))
      expect(pages).toEqual([200, 200, 200, 200, 200, 200])
      process.kill(web[0]!, 'SIGKILL')
      await expectStopped(server, 'A web process stopped (SIGKILL); stopping the server.', [web[1]!, worker])
    } finally {
      await server.stop()
    }
  })
})
