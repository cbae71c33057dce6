// The client's address behind proxies: only the hops TRUST_PROXY names are believed, so a client
// cannot choose its own address (and its own rate limit) by sending X-Forwarded-For.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { describe, expect, test } from 'vitest'
import { EnvError, parseEnv } from '#app/utils/env.server.ts'
import { trustProxies } from '../../scripts/web-server.ts'

/** What the app takes for the client's address, asked of a server of its own that is closed after. */
async function clientAddress(trust: string | undefined, forwardedFor?: string): Promise<string> {
  const app = express()
  trustProxies(app, parseEnv({ NODE_ENV: 'test', TRUST_PROXY: trust }))
  app.get('/', (req, res) => void res.send(req.ip))
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  try {
    const { port } = server.address() as AddressInfo
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor, connection: 'close' } : { connection: 'close' } })
    return await response.text()
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe('TRUST_PROXY', () => {
  test('unset, 0 or false: the socket’s address, whatever the header says', async () => {
    for (const trust of [undefined, '0', 'false']) {
      expect(await clientAddress(trust, '198.51.100.9')).toBe('127.0.0.1')
    }
  })

  test('one proxy: the address it saw, not one the client wrote in front of it', async () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
    expect(await clientAddress('1', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7')
  })

  test('two proxies: the address the outer one saw', async () => {
    expect(await clientAddress('2', '6.6.6.6, 203.0.113.7, 10.0.0.2')).toBe('203.0.113.7')
  })

  test.each(['true', 'yes', '-1', '1.5'])('TRUST_PROXY=%s is refused at boot with what it must be', (value) => {
    expect(() => parseEnv({ NODE_ENV: 'test', TRUST_PROXY: value })).toThrow(EnvError)
    expect(() => parseEnv({ NODE_ENV: 'test', TRUST_PROXY: value })).toThrow(/TRUST_PROXY must be the number of proxies/)
  })
})
