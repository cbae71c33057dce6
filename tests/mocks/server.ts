import { setupServer } from 'msw/node'

/** msw for tests: the handlers every integration test starts with. */
export const server = setupServer()
