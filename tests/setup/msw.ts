// Stripe and Resend are faked at the HTTP boundary; any request without a handler fails the test.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { resetResendOutbox } from '#tests/mocks/resend.ts'
import { server } from '#tests/mocks/server.ts'
import { resetFakeStripe } from '#tests/mocks/stripe/state.ts'

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
beforeEach(() => {
  resetFakeStripe()
  resetResendOutbox()
})
afterEach(() => server.resetHandlers())
afterAll(() => server.close())
