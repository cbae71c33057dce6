// One web server: the Remix build behind express, with Stripe's webhooks answered before both
// (decision 0208). scripts/serve.ts runs it in its own process, or in several processes sharing
// the port (WEB_CONCURRENCY, decision 0209); either way it reaches the database and the offline
// sandbox's fake Stripe through the environment serve.ts prepared.
import { existsSync, watch } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import { broadcastDevReady, type ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import type { Env } from '#app/utils/env.server.ts'
import { receiveStripeWebhook } from '#app/utils/stripe-webhook.server.ts'
import { closeServer, readBody } from './node-http.ts'

const buildPath = path.resolve('build/index.js')

export function assertBuilt(): void {
  if (!existsSync(buildPath)) throw new Error(`No build at ${buildPath}: run \`npm run build\` first (or \`npm run dev\`).`)
}

/**
 * How many processes serve the port. One request at a time runs on a process's thread, and a busy
 * thread (rendering a page, checking a signature) leaves the machine's other cores to PostgreSQL;
 * so production takes one per core unless WEB_CONCURRENCY says otherwise. Development keeps one,
 * in this process, where `remix dev` swaps in each new build.
 */
export function webProcessCount(env: Pick<Env, 'NODE_ENV' | 'WEB_CONCURRENCY'>): number {
  if (env.NODE_ENV === 'development') return 1
  return env.WEB_CONCURRENCY ?? (env.NODE_ENV === 'production' ? os.availableParallelism() : 1)
}

/** Where the client's address (rate limits, refusals) comes from: the socket, or TRUST_PROXY hops in. */
export function trustProxies(app: express.Express, env: Pick<Env, 'TRUST_PROXY'>): void {
  if (env.TRUST_PROXY > 0) app.set('trust proxy', env.TRUST_PROXY)
}

export interface WebServer {
  /** Stops listening and drops open connections; a webhook cut short was not answered, so Stripe retries it. */
  stop(): Promise<void>
}

export async function startWebServer(env: Env): Promise<WebServer> {
  const dev = env.NODE_ENV === 'development'
  let build = (await import(pathToFileURL(buildPath).href)) as ServerBuild
  const app = express()
  app.disable('x-powered-by')
  trustProxies(app, env)
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(env.PORT, () => resolve())
  })

  if (dev) {
    broadcastDevReady(build)
    // remix dev --manual: keep this process (and its database) up and swap in each new build.
    const versionFile = path.resolve('build/version.txt')
    watch(path.dirname(versionFile), async (_event, file) => {
      if (file !== 'version.txt') return
      build = (await import(`${pathToFileURL(buildPath).href}?t=${Date.now()}`)) as ServerBuild
      handle = handler(build)
      broadcastDevReady(build)
    })
  }
  return { stop: () => closeServer(server) }
}

// Case-insensitive, as Remix's own matching is: the same path reaches the same answer either way.
const stripeWebhookPath = /^\/webhooks\/stripe\/([^/?]*)\/?(?:\?.*)?$/i

function answerStripeWebhook(req: IncomingMessage, res: ServerResponse, partner: string | undefined) {
  const signature = req.headers['stripe-signature']
  receiveStripeWebhook({
    method: req.method ?? '',
    partner,
    signature: typeof signature === 'string' ? signature : null,
    readBody: async (maxBytes) => (await readBody(req, maxBytes)).toString('utf8'),
  })
    // With its length up front, the short reply goes out as one plain write rather than chunked.
    .then((reply) => res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) }).end(reply.body))
    .catch((error: unknown) => {
      // Stripe retries anything but a 2xx; the event was not stored, so nothing is lost.
      console.error('Stripe webhook failed:', error)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Could not store the event; Stripe will retry.')
    })
}
