// The sandbox checkout page: it reads the session through the real client (the fake answers),
// pays, declines or queues a bank debit through the fake, and sends the donor to success_url.
import { expect, test } from 'vitest'
import { action, loader } from '#app/routes/sandbox.checkout.$partner.$sessionId.tsx'
import { getStripe } from '#app/utils/stripe.server.ts'
import { thrownStatus } from '#tests/checkouts.ts'
import { takeEvents } from '#tests/mocks/stripe/state.ts'

async function newSession() {
  return getStripe('uk').checkout.sessions.create({
    mode: 'payment',
    submit_type: 'donate',
    customer_email: 'ada@example.org',
    line_items: [{ quantity: 1, price_data: { currency: 'gbp', unit_amount: 2500, product_data: { name: 'Gift to Aftercare' } } }],
    success_url: 'http://localhost:3000/donations/d1/thanks?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://localhost:3000/donations/d1/cancel',
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  })
}

const args = (params: Record<string, string>, form?: Record<string, string>) => ({
  params,
  context: { clientIp: '127.0.0.1' },
  request: new Request('http://localhost:3000/sandbox/checkout', form ? { method: 'POST', body: new URLSearchParams(form) } : undefined),
})

test('renders the session, declines, then pays and redirects to success_url', async () => {
  const session = await newSession()
  const params = { partner: 'uk', sessionId: session.id }
  const page = await loader(args(params))
  expect(page.session).toMatchObject({ status: 'open', email: 'ada@example.org', total: '£25.00', cancelUrl: 'http://localhost:3000/donations/d1/cancel' })
  expect(page.session.lines).toEqual([expect.objectContaining({ description: 'Gift to Aftercare', amount: '£25.00' })])

  const declined = await action(args(params, { intent: 'pay', outcome: 'declined' }))
  expect(declined).toMatchObject({ data: { declined: true, message: expect.stringContaining('Your card was declined') }, init: { status: 402 } })
  expect(takeEvents()).toEqual([])

  const paid = await action(args(params, { intent: 'pay', outcome: 'paid', name: 'Ada Lovelace', country: 'GB' })).catch((r: Response) => r)
  expect(paid).toBeInstanceOf(Response)
  expect((paid as Response).headers.get('location')).toBe(`http://localhost:3000/donations/d1/thanks?session_id=${session.id}`)
  expect(takeEvents('uk').map((e) => e.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed'])
  expect((await loader(args(params))).session).toMatchObject({ status: 'complete', paymentStatus: 'paid' })
})

test('a bank debit waits, then the sandbox admin confirms it', async () => {
  const session = await newSession()
  const params = { partner: 'uk', sessionId: session.id }
  await action(args(params, { intent: 'pay', outcome: 'processing' })).catch((r: Response) => r)
  expect((await loader(args(params))).session).toMatchObject({ status: 'complete', paymentStatus: 'unpaid', intentStatus: 'processing' })
  expect(await action(args(params, { intent: 'settle', succeeded: 'true' }))).toMatchObject({ message: expect.stringContaining('confirmed') })
  expect(takeEvents('uk').map((e) => e.type)).toContain('checkout.session.async_payment_succeeded')
})

test('404s for other partners, malformed ids and unknown sessions', async () => {
  const session = await newSession()
  expect(await thrownStatus(loader(args({ partner: 'us', sessionId: session.id })))).toBe(404) // another account's session
  expect(await thrownStatus(loader(args({ partner: 'xx', sessionId: session.id })))).toBe(404)
  expect(await thrownStatus(loader(args({ partner: 'uk', sessionId: 'cs_live_nope' })))).toBe(404)
  expect(await thrownStatus(loader(args({ partner: 'uk', sessionId: 'cs_test_doesnotexist' })))).toBe(404)
})

test('a choice that is not a form, or not one the page offers, is a 400 and changes nothing', async () => {
  const session = await newSession()
  const params = { partner: 'uk', sessionId: session.id }
  const json = new Request('http://localhost:3000/sandbox/checkout', { method: 'POST', body: '{"intent":"pay"}', headers: { 'content-type': 'application/json' } })
  expect(await thrownStatus(action({ ...args(params), request: json }))).toBe(400)
  expect(await action(args(params, { intent: 'refund' }))).toMatchObject({ init: { status: 400 } })
  expect(takeEvents()).toEqual([])
  expect((await loader(args(params))).session).toMatchObject({ status: 'open' })
})
