// Stripe and Resend are faked at the HTTP boundary; any request without a handler fails the test.
import { afterAll, afterEach, beforeAll } from 'vitest'
import { server } from '#tests/mocks/server.ts'

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())
