// The node:http plumbing the servers share: the web server's webhook lane
// (scripts/web-server.ts), the offline sandbox's fake Stripe (tests/mocks/stripe/sandbox.ts) and
// the benchmark's capture server.
import type { IncomingMessage, Server } from 'node:http'
import { BodyTooLarge } from '#app/utils/request-body.server.ts'

/**
 * A request's whole body. Past `limit` bytes it rejects with BodyTooLarge, and the rest is read
 * and dropped, so an answer such as 413 still reaches the sender.
 */
export function readBody(req: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) reject(new BodyTooLarge(limit))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Stops listening and drops kept-alive connections at once, rather than waiting for them to idle out. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
