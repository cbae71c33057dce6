// A test that makes the code log an error fails, even if its assertions pass.
import { format } from 'node:util'
import { afterEach, beforeEach, vi } from 'vitest'

let logged: string[] = []

beforeEach(() => {
  logged = []
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    logged.push(format(...args))
  })
})

afterEach(() => {
  vi.mocked(console.error).mockRestore()
  if (logged.length > 0) {
    throw new Error(`console.error was called during the test:\n${logged.join('\n---\n')}`)
  }
})
