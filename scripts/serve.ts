// The app server. Starts PostgreSQL (embedded unless DATABASE_URL is set), applies migrations,
// seeds demo data into an empty database, starts the background worker process and serves the
// Remix build. `npm start` runs it in production; `npm run dev` runs it under `remix dev --manual`.
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync, watch } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import { broadcastDevReady, type ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import { connectDatabase } from '#app/utils/db.server.ts'
import { EnvError, getAppUrl, getEnv } from '#app/utils/env.server.ts'
import { getStripeMode } from '#app/utils/stripe.server.ts'
import { receiveStripeWebhook } from '#app/utils/stripe-webhook.server.ts'
import { freePort } from '#db/embedded.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { openDatabase } from './database.ts'
import { BodyTooLarge, closeServer, readBody } from './node-http.ts'
import { seedIfEmpty } from './seed.ts'
import type { WorkerMessage } from './worker.ts'

const buildPath = path.resolve('build/index.js')

async function main() {
  const env = getEnv()
  const dev = env.NODE_ENV === 'development'
  if (!existsSync(buildPath)) {
    throw new Error(`No build at ${buildPath}: run \`npm run build\` first (or \`npm run dev\`).`)
  }

  const database = await openDatabase(env)
  // The server build's own modules and the worker process read these from the environment; this
  // process's modules (the webhook lane) parsed theirs before the database was known, so they are told.
  process.env.DATABASE_URL = database.url
  if (getStripeMode(env) === 'sandbox') process.env.STRIPE_API_URL = env.STRIPE_API_URL ?? `http://127.0.0.1:${await freePort()}`
  connectDatabase(database.url)
  await migrateDatabase(database.url)
  const seeded = await seedIfEmpty(database.url, { demoGifts: env.NODE_ENV !== 'production' })

  const worker = await startWorkerProcess().catch(async (error: unknown) => {
    await database.stop()
    throw error
  })

  let build = (await import(pathToFileURL(buildPath).href)) as ServerBuild
  const app = express()
  app.disable('x-powered-by')
  if (env.TRUST_PROXY) app.set('trust proxy', true)
  app.use(compression())
  app.use('/build', express.static('public/build', { immutable: true, maxAge: '1y' }))
  // Only paths that name a file (favicon.svg) look on disk; pages never have an extension, so a
  // page view costs no file-system lookup.
  const publicFiles = express.static('public', { maxAge: '1h' })
  app.use((req, res, next) => (path.extname(req.path) ? publicFiles(req, res, next) : next()))
  const handler = (current: ServerBuild) =>
    createRequestHandler({
      build: current,
      mode: current.mode,
      getLoadContext: (req) => ({ clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown' }),
    })
  let handle = handler(build)
  app.all('*', (req, res, next) => handle(req, res, next))

  // Stripe's webhooks skip express and the Remix adapter (decision 0208); everything else is the app.
  const server = createServer((req, res) => {
    const webhook = stripeWebhookPath.exec(req.url ?? '')
    if (webhook) answerStripeWebhook(req, res, webhook[1])
    else app(req, res)
  })
  server.listen(env.PORT, () => {
    console.log(`LIFT giving platform on ${getAppUrl(env)} (${env.NODE_ENV}${seeded ? ', demo data seeded' : ''})`)
    console.log(`  database: ${database.embedded ? `embedded PostgreSQL in ${path.join(env.DATA_DIR, 'postgres')}` : 'DATABASE_URL'}`)
    console.log(`  background worker (${worker.about}):`)
    for (const line of worker.describe) console.log(`    ${line}`)
    if (dev) broadcastDevReady(build)
  })

  if (dev) {
    // remix dev --manual: keep this process (and its database) up and swap in each new build.
    const versionFile = path.resolve('build/version.txt')
    watch(path.dirname(versionFile), async (_event, file) => {
      if (file !== 'version.txt') return
      build = (await import(`${pathToFileURL(buildPath).href}?t=${Date.now()}`)) as ServerBuild
      handle = handler(build)
      broadcastDevReady(build)
    })
  }

  let closing = false
  const shutdown = async (reason: string, code = 0) => {
    if (closing) return
    closing = true
    console.log(`${reason}: stopping`)
    void closeServer(server)
    await worker.stop()
    await database.stop()
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  // Events and email would silently stop without it: the server goes down with it, loudly.
  void worker.exited.then((how) => {
    if (closing) return
    console.error(`The background worker stopped (${how}); stopping the server.`)
    void shutdown('worker', 1)
  })
}

/**
 * Forks scripts/worker.ts with this environment and waits until its loops run. It gets the lowest
 * CPU priority (nice 19): when the machine is busy, pages and webhooks come first and events wait a
 * little; when it is not, the worker has the CPU to itself.
 */
async function startWorkerProcess() {
  const child: ChildProcess = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
    execArgv: process.execArgv,
    stdio: 'inherit',
  })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)))
  let lowered = true
  try {
    os.setPriority(child.pid!, 19)
  } catch (error) {
    lowered = false
    console.warn(`The background worker keeps the server's CPU priority: ${error instanceof Error ? error.message : error}`)
  }
  const describe = await Promise.race([
    new Promise<string[]>((resolve) => child.once('message', (message: WorkerMessage) => resolve(message.describe))),
    exited.then((how) => Promise.reject(new Error(`The background worker stopped before it was ready (${how})`))),
  ])
  return {
    about: `process ${child.pid}${lowered ? ', at the lowest CPU priority' : ''}`,
    describe,
    /** Settles when the process ends, saying how. */
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

const stripeWebhookPath = /^\/webhooks\/stripe\/([^/?]*)\/?(?:\?.*)?$/
/** Stripe's events are tens of kilobytes; a body past this is not one. */
const maxWebhookBytes = 1024 * 1024

function answerStripeWebhook(req: IncomingMessage, res: ServerResponse, partner: string | undefined) {
  const signature = req.headers['stripe-signature']
  receiveStripeWebhook({
    method: req.method ?? '',
    partner,
    signature: typeof signature === 'string' ? signature : null,
    readBody: async () => (await readBody(req, maxWebhookBytes)).toString('utf8'),
  })
    // With its length up front, the short reply goes out as one plain write rather than chunked.
    .then((reply) => res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) }).end(reply.body))
    .catch((error: unknown) => {
      if (error instanceof BodyTooLarge) {
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`A webhook body is at most ${maxWebhookBytes} bytes`)
        return
      }
      // Stripe retries anything but a 2xx; the event was not stored, so nothing is lost.
      console.error('Stripe webhook failed:', error)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Could not store the event; Stripe will retry.')
    })
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error)
  process.exit(1)
})
