// msw for tests: the fake Stripe (three sandbox accounts, as app/utils/stripe.server.ts uses them
// without keys) and Resend. tests/setup/msw.ts resets both before each test.
import { setupServer } from 'msw/node'
import { resendHandlers } from './resend.ts'
import { stripeHandlers } from './stripe/handlers.ts'
import { configureFakeStripe, sandboxAccounts } from './stripe/state.ts'

configureFakeStripe(sandboxAccounts('http://localhost:3000'))

/** msw for tests: the handlers every integration test starts with. */
export const server = setupServer(...stripeHandlers, ...resendHandlers)
