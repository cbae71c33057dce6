// Background work that runs beside the web server, each worker with its own loop.
import { pruneRateLimits } from '#app/models/abuse.server.ts'
import { sendAllDueEmails } from '#app/models/email-outbox.server.ts'
import { offerFreeCap, releaseExpiredReservations } from '#app/models/matching.server.ts'
import { db, getDatabaseUrl } from '#app/utils/db.server.ts'
import { getEmailTransport } from '#app/utils/email.server.ts'
import { getAppUrl, type Env } from '#app/utils/env.server.ts'
import { getStripeMode } from '#app/utils/stripe.server.ts'
import { startStripeEventProcessor } from './stripe-event-processor.ts'

export interface Workers {
  describe(): string[]
  stop(): Promise<void>
}

export async function startWorkers(env: Env): Promise<Workers> {
  const running: { name: string; stop(): Promise<void> }[] = []
  if (getStripeMode(env) === 'sandbox') {
    // Without Stripe keys (never in production): the tests' fake Stripe answers the API and
    // delivers signed webhooks. Loaded only here, since msw is a devDependency.
    const { startStripeSandbox } = await import('#tests/mocks/stripe/sandbox.ts')
    const sandbox = await startStripeSandbox({ appUrl: getAppUrl(env), env })
    running.push({ name: sandbox.describe, stop: () => sandbox.stop() })
  }
  const events = await startStripeEventProcessor({ databaseUrl: getDatabaseUrl() })
  running.push(events)
  const mail = getEmailTransport(env)
  running.push(
    every('Sweeper: voids match reservations held past their time and offers free cap to gifts waiting for it, every 30 s', 30_000, async () => {
      while ((await releaseExpiredReservations(db)) > 0) {
        // a batch at a time until none is overdue
      }
      await offerFreeCap(db)
      await pruneRateLimits(db)
    }),
    every(`Mailer: sends queued email ${mail.name === 'resend' ? 'through Resend' : `into the dev outbox (${getAppUrl(env)}/dev/outbox)`}, every 5 s`, 5_000, async () => {
      const report = await sendAllDueEmails({ transport: mail })
      if (report.failed > 0) console.warn(`Mailer: ${report.failed} email(s) failed for good; see email_outbox.last_error`)
    }),
  )
  return {
    describe: () => running.map((worker) => worker.name),
    async stop() {
      for (const worker of running.reverse()) await worker.stop()
    },
  }
}

/** Runs `work` now and then every `ms`, never two runs at once; a failed run is logged. */
function every(name: string, ms: number, work: () => Promise<void>) {
  let stopped = false
  let inFlight: Promise<void> | null = null
  const tick = () => {
    if (stopped || inFlight) return
    inFlight = work()
      .catch((error: unknown) => console.error(`${name.split(':')[0]} failed:`, error))
      .finally(() => {
        inFlight = null
      })
  }
  tick()
  const timer = setInterval(tick, ms)
  return {
    name,
    async stop() {
      stopped = true
      clearInterval(timer)
      await inFlight
    },
  }
}
