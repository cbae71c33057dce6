// How many processes serve the port (scripts/web-server.ts, decision 0209), and the setting's
// validation.
import os from 'node:os'
import { describe, expect, test } from 'vitest'
import { EnvError, parseEnv } from '#app/utils/env.server.ts'
import { webProcessCount } from '../../scripts/web-server.ts'

describe('webProcessCount', () => {
  test('production takes one per core unless WEB_CONCURRENCY says otherwise', () => {
    expect(webProcessCount({ NODE_ENV: 'production', WEB_CONCURRENCY: undefined })).toBe(os.availableParallelism())
    expect(webProcessCount({ NODE_ENV: 'production', WEB_CONCURRENCY: 3 })).toBe(3)
  })

  test('tests run one unless told; development always one, where remix dev swaps builds', () => {
    expect(webProcessCount({ NODE_ENV: 'test', WEB_CONCURRENCY: undefined })).toBe(1)
    expect(webProcessCount({ NODE_ENV: 'test', WEB_CONCURRENCY: 2 })).toBe(2)
    expect(webProcessCount({ NODE_ENV: 'development', WEB_CONCURRENCY: 4 })).toBe(1)
  })

  test.each(['0', 'two', '1.5', '65'])('WEB_CONCURRENCY=%s is refused at boot with what it must be', (value) => {
    expect(() => parseEnv({ NODE_ENV: 'test', WEB_CONCURRENCY: value })).toThrow(EnvError)
    expect(() => parseEnv({ NODE_ENV: 'test', WEB_CONCURRENCY: value })).toThrow(/WEB_CONCURRENCY/)
  })

  test('a whole number is read as such', () => {
    expect(parseEnv({ NODE_ENV: 'test', WEB_CONCURRENCY: '2' }).WEB_CONCURRENCY).toBe(2)
  })
})
