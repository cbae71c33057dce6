// Driving a gift the way a donor's browser and Stripe do: the campaign form's action, the
// review / thanks / cancel routes, and Stripe's signed webhooks from the fake, with read-backs of
// what Stripe was asked for and what the database now holds.
import { sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { expect } from 'vitest'
import { action as giveAction, loader as campaignLoader } from '#app/routes/campaigns.$slug.tsx'
import { action as cancelAction, loader as cancelLoader } from '#app/routes/donations.$donationId.cancel.tsx'
import { loader as reviewLoader } from '#app/routes/donations.$donationId.review.tsx'
import { loader as thanksLoader } from '#app/routes/donations.$donationId.thanks.tsx'
import { db } from '#app/utils/db.server.ts'
import type { FiscalPartnerId } from '#app/utils/env.server.ts'
import { accountFor, getFakeObject, takeEvents } from '#tests/mocks/stripe/state.ts'
import { deliver } from '#tests/support/webhooks.ts'

export const live = 'aftercare-thailand'
export const context = { clientIp: '203.0.113.7' }
const origin = 'http://localhost:3000'

/** A complete one-off USD gift from a US donor, as the form posts it. */
export const validForm: Record<string, string> = {
  amountPreset: '5000',
  customAmount: '',
  frequency: 'one_off',
  currency: 'USD',
  designationId: 'survivor-fund',
  tributeType: 'none',
  tributeName: '',
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  country: 'US',
  partner: 'auto',
  website: '',
}

export function postGift(fields: Record<string, string>, options: { slug?: string; clientIp?: string } = {}) {
  const slug = options.slug ?? live
  const request = new Request(`${origin}/campaigns/${encodeURIComponent(slug)}`, { method: 'POST', body: new URLSearchParams(fields) })
  return giveAction({ request, params: { slug }, context: { clientIp: options.clientIp ?? context.clientIp } })
}

/**
 * The donor's browser keeps the cookies the form's action sets (the resume secret) and sends them
 * with the next campaign page; `{ cookie: '' }` is someone else's browser.
 */
let browserCookie = ''

export function loadCampaign(slug = live, search = '', options: { cookie?: string } = {}) {
  const request = new Request(`${origin}/campaigns/${encodeURIComponent(slug)}${search}`, { headers: { cookie: options.cookie ?? browserCookie } })
  return campaignLoader({ request, params: { slug }, context })
}

/** A submission that must succeed: the new donation's id, from the redirect to its review page. */
export async function give(fields: Record<string, string> = {}, options: { slug?: string; clientIp?: string } = {}): Promise<string> {
  const result = await postGift({ ...validForm, ...fields }, options)
  if (!(result instanceof Response)) throw new Error(`expected a redirect, got ${JSON.stringify(unwrap(result))}`)
  const location = result.headers.get('location') ?? ''
  const match = /^\/donations\/([0-9a-f-]{36})\/review$/.exec(location)
  if (result.status !== 302 || !match) throw new Error(`expected a redirect to a review page, got ${result.status} ${location}`)
  browserCookie = (result.headers.get('set-cookie') ?? '').split(';')[0]!
  return match[1]!
}

/** What `data(value, { status })` carries. */
export function unwrap(result: unknown): { status: number; headers: Headers; body: Record<string, unknown> } {
  const { data, init } = result as { data: Record<string, unknown>; init: ResponseInit | null }
  return { status: init?.status ?? 200, headers: new Headers(init?.headers), body: data }
}

/** The Response a loader or action threw or returned (redirects and 4xx alike). */
export async function thrown(promise: Promise<unknown>): Promise<Response> {
  try {
    const result = await promise
    if (result instanceof Response) return result
  } catch (error) {
    if (error instanceof Response) return error
    throw error
  }
  throw new Error('expected a Response')
}

/** The status of a Response a loader or action threw; fails if it resolved or threw anything else. */
export async function thrownStatus(promise: Promise<unknown>): Promise<number> {
  try {
    await promise
  } catch (error) {
    if (error instanceof Response) return error.status
    throw error
  }
  throw new Error('expected a thrown Response')
}

/** A request from the donor's browser, or with `cookie`, from another one. */
const donationArgs = (donationId: string, path: string, init?: RequestInit, cookie = browserCookie) => ({
  params: { donationId },
  context,
  request: new Request(`${origin}/donations/${encodeURIComponent(donationId)}/${path}`, { ...init, headers: { cookie } }),
})

export const review = (donationId: string) => reviewLoader(donationArgs(donationId, 'review'))
export const thanks = (donationId: string, sessionId?: string) =>
  thanksLoader(donationArgs(donationId, `thanks${sessionId ? `?session_id=${sessionId}` : ''}`))
export const cancelByLink = (donationId: string, options: { cookie?: string } = {}) => cancelLoader(donationArgs(donationId, 'cancel', undefined, options.cookie))
export const cancelByForm = (donationId: string, options: { cookie?: string } = {}) =>
  cancelAction(donationArgs(donationId, 'cancel', { method: 'POST', body: new URLSearchParams() }, options.cookie))

export async function donationRow(donationId: string) {
  const { rows } = await db.execute<{
    status: string
    fiscal_partner_id: FiscalPartnerId
    checkout_session_id: string | null
    amount_minor: number
    fee_covered_minor: number
    charged_minor: number
    currency: string
    campaign_amount_minor: number
    anonymous: boolean
    tribute_type: string | null
    tribute_name: string | null
    donor_country: string
    recurring_plan_id: string | null
    settled_net_minor: number | null
    settlement_currency: string | null
    campaign_id: number
  }>(sql`select * from donations where id = ${donationId}`)
  return rows[0]!
}

/** The Checkout Session Stripe holds for a donation, and what it was created with. */
export async function stripeSessionOf(donationId: string) {
  const row = await donationRow(donationId)
  expect(row.checkout_session_id).toMatch(/^cs_test_/)
  const account = accountFor(row.fiscal_partner_id)
  const session = getFakeObject<Stripe.Checkout.Session>(row.checkout_session_id!)!
  return { partner: row.fiscal_partner_id, session, setup: account.sessions.get(session.id)!, idempotencyKeys: [...account.idempotency.keys()] }
}

/** Delivers every event the fake has queued to our webhook route, and applies them. */
export async function deliverWebhooks(partner?: FiscalPartnerId): Promise<string[]> {
  const delivered: string[] = []
  for (const event of takeEvents(partner)) {
    await deliver([event], (partner ?? partnerOfEvent(event)) as FiscalPartnerId)
    delivered.push(event.type)
  }
  return delivered
}

function partnerOfEvent(event: Stripe.Event): string {
  for (const id of ['us', 'uk', 'nz'] as const) if (accountFor(id).objects.has(event.id)) return id
  throw new Error(`no fake account holds event ${event.id}`)
}

export async function reservationsOf(donationId: string) {
  const { rows } = await db.execute<{ amount_minor: number; portion_minor: number; status: string; expires_at: string }>(
    sql`select amount_minor, portion_minor, status, expires_at from match_reservations where donation_id = ${donationId} order by id`,
  )
  return rows.map((row) => ({ ...row, expires_at: new Date(row.expires_at) }))
}

export async function pledgeFor(slug = live) {
  const { rows } = await db.execute<{ id: number; cap_minor: number; reserved_minor: number; matched_minor: number }>(sql`
    select p.id, p.cap_minor, p.reserved_minor, p.matched_minor from match_pledges p join campaigns c on c.id = p.campaign_id
    where c.slug = ${slug} order by p.priority limit 1`)
  return rows[0]!
}
