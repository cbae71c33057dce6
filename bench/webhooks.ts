// npm run bench:webhooks — how fast the running app takes Stripe's checkout.session.completed
// events, against the database's own floor.
//
// Ours: N signed events POSTed to /webhooks/stripe/us from C concurrent connections. The server
// verifies the signature and stores the event in the inbox (decisions 0207, 0208); the background
// worker's event processor, told by NOTIFY, re-fetches and settles them once the deliveries pause
// (or a second after the first, for a longer burst).
// The POSTs are what is timed against the floor; how soon the processor had applied each slice is
// printed beside it, and the bench waits for the worker to be idle (events applied, emails sent)
// before the floor's slice runs. The app is the production build served by scripts/serve.ts
// without Stripe keys, so the offline sandbox's fake Stripe (in the worker process) answers the
// calls the processor makes (the session, its charge with the balance transaction): the same code
// as with Stripe, minus the internet.
// Each event names a real pending donation made through the donation form and a session the
// donor "paid" on the sandbox checkout page. The floor: on the same database, the same number of
// bare `INSERT … ON CONFLICT DO NOTHING` transactions from C connections, the least any handler
// that records an event once can cost. The two alternate in BENCH_ROUNDS slices, so a burst of
// other work on the machine lands on both. Afterwards the database must show every donation
// settled exactly once (redeliveries, and pairs of the same event racing each other, included)
// and ledger:check clean. The output ends with `ratio: X` = our events/s ÷ the floor's.
//
// Env (or --n= / --c= / --rounds=): BENCH_N (1000), BENCH_C (16), BENCH_ROUNDS (2),
// BENCH_SETUP_C (8, connections while preparing the donations, not timed),
// BENCH_REPLAY (0.1, the share of events delivered again afterwards).
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type Stripe from 'stripe'
import { countEmailsOwed } from '#app/models/email-outbox.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { parseEnv, type FiscalPartnerId } from '#app/utils/env.server.ts'
import { getStripeAccount } from '#app/utils/stripe.server.ts'
import { createDb, createPool } from '#db/client.ts'
import { ensureDatabase, freePort, startEmbeddedPostgres } from '#db/embedded.ts'
import { signedWebhook } from '#tests/mocks/stripe/state.ts'
import { startAppProcess } from '../scripts/app-process.ts'
import { closeServer, readBody } from '../scripts/node-http.ts'
import { RawConnection, requestBytes } from './raw-http.ts'
import { add, perSecond, quantile, runConcurrently, type Timing } from './timing.ts'

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const N = Number(arg('n') ?? process.env.BENCH_N ?? 1_000)
const C = Number(arg('c') ?? process.env.BENCH_C ?? 16)
const rounds = Math.max(1, Number(arg('rounds') ?? process.env.BENCH_ROUNDS ?? 2))
const setupC = Number(process.env.BENCH_SETUP_C ?? 8)
const replayShare = Number(process.env.BENCH_REPLAY ?? 0.1)
/** Warm-up events (JIT, pools, caches) and racing pairs: settled and checked, not timed. */
const warmupN = Math.min(100, Math.max(10, Math.round(N / 20)))
const raceN = Math.max(10, Math.round(N / 20))
const webProcesses = os.availableParallelism()
const campaignSlug = 'aftercare-thailand'
const partner: FiscalPartnerId = 'us'

const log = (line = '') => console.log(line)

// ---------------------------------------------------------------------------------------------
// Where the sandbox delivers its webhooks during setup: here, not the app, so each event can be
// kept and posted later under the clock. APP_URL points the sandbox at this server.

interface Captured {
  partner: FiscalPartnerId
  event: Stripe.Event
}

function startCaptureServer(port: number) {
  const completed = new Map<string, Captured>()
  let otherEvents = 0
  const server = http.createServer((req, res) => {
    const match = /^\/webhooks\/stripe\/(us|uk|nz)$/.exec(req.url ?? '')
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end()
      return
    }
    void readBody(req).then((body) => {
      const event = JSON.parse(body.toString('utf8')) as Stripe.Event
      if (event.type === 'checkout.session.completed') {
        completed.set(event.data.object.id, { partner: match[1] as FiscalPartnerId, event })
      } else {
        otherEvents++
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}')
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    completed,
    otherEvents: () => otherEvents,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => closeServer(server),
  }
}

// ---------------------------------------------------------------------------------------------
// Setup (not timed): donations through the form, paid on the sandbox checkout page.

interface Prepared {
  donationId: string
  sessionId: string
}

async function expectRedirect(response: Response, what: string): Promise<string> {
  const location = response.headers.get('location')
  if (response.status !== 302 || !location) {
    const text = await response.text()
    throw new Error(`${what}: expected a redirect, got ${response.status}: ${text.slice(0, 300)}`)
  }
  await response.body?.cancel()
  return location
}

/** One gift through the campaign form, as a donor of its own from an address of its own. */
async function giveThroughForm(baseUrl: string, i: number): Promise<string> {
  const form = new URLSearchParams({
    amountPreset: 'custom',
    // $5 to $40: some gifts match in full, later ones find the cap running out, as in a campaign.
    customAmount: String(5 + ((i * 7919) % 36)),
    frequency: 'one_off',
    currency: 'USD',
    designationId: 'survivor-fund',
    tributeType: 'none',
    tributeName: '',
    name: `Bench Donor ${i}`,
    email: `bench-${process.pid}-${i}@example.org`,
    country: 'US',
    partner: 'auto',
    website: '',
  })
  // The per-IP limit keys on X-Forwarded-For because the app runs with TRUST_PROXY=1, as behind one
  // proxy; every donor here comes from an address of its own, so no limit is bent.
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
  const response = await fetch(`${baseUrl}/campaigns/${campaignSlug}`, {
    method: 'POST',
    body: form,
    headers: { 'x-forwarded-for': ip },
    redirect: 'manual',
  })
  const location = await expectRedirect(response, `donation ${i}`)
  const donationId = /^\/donations\/([0-9a-f-]{36})\/review$/.exec(location)?.[1]
  if (!donationId) throw new Error(`donation ${i}: unexpected redirect to ${location}`)
  return donationId
}

async function payOnSandbox(baseUrl: string, sessionId: string, i: number): Promise<void> {
  const response = await fetch(`${baseUrl}/sandbox/checkout/${partner}/${sessionId}`, {
    method: 'POST',
    body: new URLSearchParams({ intent: 'pay', outcome: 'paid', name: `Bench Donor ${i}`, country: 'US' }),
    redirect: 'manual',
  })
  await expectRedirect(response, `paying session ${sessionId}`)
}

async function prepare(baseUrl: string, pool: ReturnType<typeof createPool>, count: number): Promise<Prepared[]> {
  const donationIds: string[] = []
  const start = performance.now()
  await runConcurrently(setupC, 0, count, async (_w, i) => {
    donationIds[i] = await giveThroughForm(baseUrl, i)
  })
  const { rows } = await pool.query<{ id: string; session: string | null; fp: string }>(
    `select id, checkout_session_id as session, fiscal_partner_id as fp from donations where id = any($1::uuid[])`,
    [donationIds],
  )
  const byId = new Map(rows.map((r) => [r.id, r]))
  const prepared = donationIds.map((donationId) => {
    const row = byId.get(donationId)
    if (!row?.session || row.fp !== partner) throw new Error(`donation ${donationId} has no ${partner} checkout session`)
    return { donationId, sessionId: row.session }
  })
  await runConcurrently(setupC, 0, count, (_w, i) => payOnSandbox(baseUrl, prepared[i]!.sessionId, i))
  log(`  ${count} donations made and paid in ${((performance.now() - start) / 1000).toFixed(1)} s`)
  return prepared
}

// ---------------------------------------------------------------------------------------------
// Posting events: signed here with the partner's sandbox secret, fresh for each delivery.

const webhookSecret = getStripeAccount(partner, parseEnv({ NODE_ENV: 'test' })).webhookSecret

type Outcome = 'queued' | 'duplicate' | 'failed'

/** One delivery: its request bytes, serialised and signed as Stripe's sender would (Stripe's work, not the server's). */
const sign = (baseUrl: string, captured: Captured): Buffer => {
  const { body, headers } = signedWebhook(captured.event, captured.partner, { secret: webhookSecret })
  return requestBytes(new URL(`/webhooks/stripe/${captured.partner}`, baseUrl), 'POST', headers, body)
}

/**
 * C kept-alive connections to the app, one per concurrent sender (bench/raw-http.ts: a load
 * generator's client, so the client's own CPU is not measured as the server's). `open()` runs
 * before each timed slice, so no slice pays for a connection the server closed while it was idle.
 */
function senders(baseUrl: string) {
  const url = new URL(baseUrl)
  let connections: RawConnection[] = []
  return {
    async open() {
      const stale = connections.filter((c) => c.closed)
      connections = await Promise.all(Array.from({ length: C }, (_, i) => (connections[i] && !connections[i].closed ? connections[i] : RawConnection.open(url))))
      stale.forEach((c) => c.close())
    },
    async post(worker: number, delivery: Buffer): Promise<Outcome> {
      try {
        const response = await connections[worker]!.send(delivery)
        if (response.status < 200 || response.status >= 300) return 'failed'
        return (JSON.parse(response.body) as { outcome: Outcome }).outcome
      } catch {
        return 'failed'
      }
    },
    close: () => connections.forEach((c) => c.close()),
  }
}

function tally(outcomes: Outcome[]) {
  const counts: Record<Outcome, number> = { queued: 0, duplicate: 0, failed: 0 }
  for (const o of outcomes) counts[o]++
  return counts
}

const describeTally = (counts: Record<Outcome, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ')

/**
 * Waits until the app's background worker has applied every stored event and, unless told
 * otherwise, sent every thank-you email it queued (into the sandbox's outbox): both sides' slices
 * start from a quiet machine, so neither is timed while the other's aftermath still runs.
 */
async function quiet(pool: ReturnType<typeof createPool>, { emails = true } = {}, timeoutMs = 10 * 60_000) {
  const deadline = Date.now() + timeoutMs
  const outbox = createDb(pool)
  for (;;) {
    const { rows } = await pool.query<{ due: number; failing: number }>(
      `select count(*)::int as due, count(last_error)::int as failing from stripe_events where processed_at is null`,
    )
    const { due, failing } = rows[0]!
    const mail = emails ? await countEmailsOwed(outbox) : 0
    if (due === 0 && mail === 0) return
    if (failing > 0) throw new Error(`${failing} events failed to apply; see stripe_events.last_error`)
    if (Date.now() > deadline) throw new Error(`${due} events unapplied and ${mail} emails unsent after ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// ---------------------------------------------------------------------------------------------

const ms = (x: number) => `${x.toFixed(1)} ms`

function report(label: string, t: Timing) {
  return `${label}: ${t.units} in ${t.seconds.toFixed(2)} s = ${perSecond(t).toFixed(0)}/s, p50 ${ms(quantile(t.latencies, 0.5))}, p99 ${ms(quantile(t.latencies, 0.99))}`
}

async function main() {
  log(`bench:webhooks — N=${N} checkout.session.completed events from C=${C} connections in ${rounds} alternating rounds; node ${process.version}, ${os.cpus().length} CPUs`)
  const build = spawnSync('npx', ['remix', 'build'], { encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`remix build failed:\n${build.stdout}\n${build.stderr}`)

  // The fake Stripe runs only without keys; a key in this shell would point the app at Stripe.
  for (const name of Object.keys(process.env)) if (/^(STRIPE_|RESEND_API_KEY$|DATABASE_URL$|APP_URL$)/.test(name)) delete process.env[name]

  // Everything started here is stopped in reverse order, also on Ctrl-C, so nothing outlives the run.
  const cleanups: (() => Promise<unknown>)[] = []
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((error: unknown) => console.error(error))
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)))
  }
  let failed = false
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-bench-webhooks-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true })
    cleanups.push(() => postgres.stop())
    const capture = startCaptureServer(await freePort())
    await ensureDatabase(postgres.adminUrl, 'lift_bench')
    const databaseUrl = postgres.urlFor('lift_bench')
    await capture.listen()
    cleanups.push(() => capture.close())
    const app = await startAppProcess({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        DATA_DIR: dir,
        APP_URL: capture.origin,
        TRUST_PROXY: '1',
        // What production runs (decision 0209); NODE_ENV stays test for the sandbox.
        WEB_CONCURRENCY: String(webProcesses),
      },
    })
    cleanups.push(() => app.stop())
    const pool = createPool(databaseUrl, { max: Math.max(C, setupC) })
    cleanups.push(() => pool.end())
    const { rows: version } = await pool.query<{ v: string }>(`select current_setting('server_version') as v`)
    log(`PostgreSQL ${version[0]!.v}, embedded (fsync off); app: production build in ${webProcesses} web processes, NODE_ENV=test, offline Stripe sandbox`)

    // Setup: every donation pending with a paid session, every completed event captured.
    log(`setup: ${warmupN + N + raceN} donations through the form and the sandbox checkout (${setupC} at a time, not timed)`)
    const prepared = await prepare(app.baseUrl, pool, warmupN + N + raceN)
    const deadline = Date.now() + 10 * 60_000
    while (prepared.some((p) => !capture.completed.has(p.sessionId))) {
      if (Date.now() > deadline) throw new Error(`only ${capture.completed.size} of ${prepared.length} completed events arrived:\n${app.output().slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const events = prepared.map((p) => capture.completed.get(p.sessionId)!)
    const warmup = events.slice(0, warmupN)
    const timed = events.slice(warmupN, warmupN + N)
    const racing = events.slice(warmupN + N)
    log(`  ${events.length} checkout.session.completed events captured (and ${capture.otherEvents()} charge/payment_intent events the handler ignores, not used)`)

    const floorRows = { next: 0 }
    await pool.query(`create table bench_floor (id text primary key)`)
    // The floor's connections are opened before its clock starts, like the app's pool is warm.
    const floorPool = createPool(databaseUrl, { max: C })
    cleanups.push(() => floorPool.end())
    const clients = await Promise.all(Array.from({ length: C }, () => floorPool.connect()))
    cleanups.push(async () => clients.forEach((client) => client.release()))
    const floorSlice = (count: number) =>
      runConcurrently(C, 0, count, async (worker) => {
        await clients[worker]!.query(`insert into bench_floor (id) values ($1) on conflict do nothing`, [`evt_floor_${++floorRows.next}`])
      })

    const before = await pool.query<{ gifts: number; raised: number }>(
      `select gifts_count as gifts, raised_gifts_minor as raised from campaign_totals where campaign_id = (select id from campaigns where slug = $1)`,
      [campaignSlug],
    )

    // Warm-up, both sides.
    const outcomes: Outcome[] = []
    const sender = senders(app.baseUrl)
    cleanups.push(async () => sender.close())
    const deliver = async (events: Captured[]) => {
      await sender.open()
      await runConcurrently(C, 0, events.length, (worker, i) => sender.post(worker, sign(app.baseUrl, events[i]!)).then((o) => void outcomes.push(o)))
    }
    await deliver(warmup)
    await floorSlice(warmupN)
    const warmupTally = tally(outcomes.splice(0))
    await quiet(pool)

    // The measurement: ours and the floor alternate, slice by slice.
    let ours: Timing = { units: 0, seconds: 0, latencies: [] }
    let floor: Timing = { units: 0, seconds: 0, latencies: [] }
    // Each slice of ours is followed by the wait until the worker has applied it and sent its
    // emails, so the floor's slice never shares the machine with our backlog.
    const applied = { seconds: 0, lagMs: 0 }
    for (let round = 0; round < rounds; round++) {
      const from = Math.floor((round * N) / rounds)
      const to = Math.floor(((round + 1) * N) / rounds)
      // Signed just before the clock starts (well inside Stripe's 5-minute tolerance), so the
      // client's serialising and hashing is not timed, as the floor's client has none.
      const deliveries = timed.slice(from, to).map((event) => sign(app.baseUrl, event))
      await sender.open()
      const start = performance.now()
      ours = add(ours, await runConcurrently(C, from, to, async (worker, i) => void outcomes.push(await sender.post(worker, deliveries[i - from]!))))
      const posted = performance.now()
      await quiet(pool, { emails: false })
      applied.seconds += (performance.now() - start) / 1000
      applied.lagMs = Math.max(applied.lagMs, performance.now() - posted)
      await quiet(pool)
      floor = add(floor, await floorSlice(to - from))
    }
    const timedTally = tally(outcomes.splice(0))

    // Redelivery: a share of the settled events again, then fresh events each sent twice at once.
    const replays = timed.slice(0, Math.round(N * replayShare))
    await deliver(replays)
    const replayTally = tally(outcomes.splice(0))
    await deliver(racing.flatMap((event) => [event, event]))
    const raceTally = tally(outcomes.splice(0))
    await quiet(pool)

    // Checked from the database: every donation settled, and only once.
    const ids = prepared.map((p) => p.donationId)
    const eventIds = events.map((e) => e.event.id)
    const { rows: counts } = await pool.query<{ lost: number; doubled: number; unrecorded: number; settled_minor: number }>(
      `with ids as (select unnest($1::uuid[]) as id),
       per as (
         select ids.id,
                d.status = 'succeeded' and d.balance_transaction_id is not null as settled,
                coalesce(d.counted_minor, 0) as counted,
                (select count(*) from ledger_entries e where e.donation_id = ids.id and e.kind = 'gift') as gift_entries,
                (select count(*) from (select 1 from matches m where m.donation_id = ids.id and m.kind = 'earned'
                                       group by m.pledge_id having count(*) > 1) x) as doubled_matches,
                (select count(*) from (select 1 from ledger_entries e where e.donation_id = ids.id and e.kind = 'match'
                                       group by e.source_key having count(*) > 1) x) as doubled_match_entries
         from ids left join donations d on d.id = ids.id
       )
       select count(*) filter (where not coalesce(settled, false) or gift_entries = 0)::int as lost,
              count(*) filter (where gift_entries > 1 or doubled_matches > 0 or doubled_match_entries > 0)::int as doubled,
              ($2::int - (select count(*) from stripe_events where id = any($3::text[])))::int as unrecorded,
              coalesce(sum(counted), 0)::int8 as settled_minor
       from per`,
      [ids, eventIds.length, eventIds],
    )
    const { lost, doubled, unrecorded, settled_minor: settledMinor } = counts[0]!
    const after = await pool.query<{ gifts: number; raised: number }>(
      `select gifts_count as gifts, raised_gifts_minor as raised from campaign_totals where campaign_id = (select id from campaigns where slug = $1)`,
      [campaignSlug],
    )
    const giftsDelta = after.rows[0]!.gifts - before.rows[0]!.gifts
    const raisedDelta = after.rows[0]!.raised - before.rows[0]!.raised
    const totalsOk = giftsDelta === ids.length && raisedDelta === settledMinor
    const findings = await checkLedger(createDb(pool))
    const ledgerErrors = findings.filter((f) => f.severity === 'error')

    log()
    log(`warm-up: ${warmupN} events (${describeTally(warmupTally)})`)
    log(report(`ours  (POST /webhooks/stripe/${partner}: verify, store in the inbox)`, ours) + ` — ${describeTally(timedTally)}`)
    log(`      applied by the event processor (re-fetch from the fake Stripe, settle): ${(N / applied.seconds).toFixed(0)}/s from first POST to last applied, the last up to ${ms(applied.lagMs)} after the POSTs were answered`)
    log(report('floor (INSERT … ON CONFLICT DO NOTHING, one per transaction)', floor))
    log(`redelivered ${replays.length} settled events: ${describeTally(replayTally)}`)
    log(`${racing.length} fresh events each posted twice at once: ${describeTally(raceTally)}`)
    log(`campaign totals: +${giftsDelta} gifts, +${raisedDelta} raised (settled donations say ${ids.length} and ${settledMinor}): ${totalsOk ? 'consistent' : 'INCONSISTENT'}`)
    log(`stripe_events: ${eventIds.length - unrecorded} of ${eventIds.length} events recorded`)
    for (const f of ledgerErrors) log(`ERROR [${f.check}] ${f.detail}`)
    log(ledgerErrors.length === 0 ? `ledger:check clean (${findings.length} warnings)` : `ledger:check FAILED: ${ledgerErrors.length} errors`)
    const refused = [warmupTally, timedTally, replayTally, raceTally].reduce((sum, t) => sum + t.failed, 0)
    if (refused > 0) log(`FAILED: ${refused} deliveries were not answered with a 2xx`)
    failed = refused > 0 || lost > 0 || doubled > 0 || unrecorded > 0 || !totalsOk || ledgerErrors.length > 0

    log()
    log(`ours:  ${perSecond(ours).toFixed(0)} events/s, p99 ${ms(quantile(ours.latencies, 0.99))}`)
    log(`floor: ${perSecond(floor).toFixed(0)} tx/s, p99 ${ms(quantile(floor.latencies, 0.99))}`)
    log(`lost: ${lost}`)
    log(`double-applied: ${doubled}`)
    log(`ratio: ${(perSecond(ours) / perSecond(floor)).toFixed(3)}`)
  } finally {
    await cleanup()
  }
  if (failed) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
