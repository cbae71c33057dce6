// The campaign pages' loaders and action on a real database holding the demo catalogue. Bar
// figures are never hard-coded: each test sets or reads campaign_totals and match_pledges itself.
import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { loader as homeLoader } from '#app/routes/_index.tsx'
import { action, loader } from '#app/routes/campaigns.$slug.tsx'
import { getCampaignPageSnapshot } from '#app/models/campaigns.server.ts'
import { db } from '#app/utils/db.server.ts'
import { campaigns } from '#db/schema/catalog.ts'
import { donations, donors } from '#db/schema/giving.ts'
import { seedCatalog } from '#db/seed.ts'
import { thrownStatus, validForm } from '#tests/checkouts.ts'
import { rowCounts } from '#tests/factories.ts'

const context = { clientIp: '127.0.0.1' }
const live = 'aftercare-thailand'

beforeEach(async () => {
  await seedCatalog(db)
})

afterEach(() => {
  vi.useRealTimers()
})

function load(slug: string) {
  return loader({ request: new Request(`http://localhost/campaigns/${encodeURIComponent(slug)}`), params: { slug }, context })
}

function post(slug: string, fields: Record<string, string>) {
  const request = new Request(`http://localhost/campaigns/${encodeURIComponent(slug)}`, { method: 'POST', body: new URLSearchParams(fields) })
  return action({ request, params: { slug }, context })
}

/** What `data(value, { status })` carries. */
function unwrap(result: unknown): { status: number; body: Record<string, unknown> } {
  const { data, init } = result as { data: Record<string, unknown>; init: ResponseInit | null }
  return { status: init?.status ?? 200, body: data }
}

describe('campaign page loader', () => {
  test('shows the live campaign with its bar computed from the totals row and pledges', async () => {
    await db.execute(sql`update campaign_totals set raised_gifts_minor = 512_345, matched_minor = 421_000, donors_count = 37
      where campaign_id = (select id from campaigns where slug = ${live})`)
    await db.execute(sql`update match_pledges set matched_minor = 421_000
      where campaign_id = (select id from campaigns where slug = ${live})`)
    const { rows } = await db.execute<{ raised: number; matched: number; donors: number; target: number; caps: number; pledge_matched: number; ends_at: Date }>(sql`
      select t.raised_gifts_minor as raised, t.matched_minor as matched, t.donors_count as donors, c.donor_target_minor as target,
             (select sum(cap_minor) from match_pledges p where p.campaign_id = c.id)::bigint as caps,
             (select sum(matched_minor) from match_pledges p where p.campaign_id = c.id)::bigint as pledge_matched, c.ends_at
      from campaigns c join campaign_totals t on t.campaign_id = c.id where c.slug = ${live}`)
    const expected = rows[0]!

    const page = await load(live)
    expect(page.campaign).toMatchObject({ slug: live, title: 'Aftercare for Survivors of Trafficking in Thailand', currency: 'USD', status: 'live' })
    expect(page.progress.raisedMinor).toBe(expected.raised + expected.matched)
    expect(page.progress.goalMinor).toBe(expected.target + expected.caps)
    expect(page.progress.goalMinor).toBe(3_000_000) // "$30,000" for a $15,000 donor target and a $15,000 match
    expect(page.campaign.donorsCount).toBe(expected.donors)
    expect(page.pledges).toEqual([
      { id: expect.any(Number), partnerName: "One Day's Wages", ratio: '1:1', fill: expect.objectContaining({ matchedMinor: expected.pledge_matched, capMinor: 1_500_000 }) },
    ])
    const days = Math.floor((new Date(expected.ends_at).getTime() - Date.now()) / 86_400_000)
    expect(page.timeLeft).toMatchObject({ state: 'open', label: `${days} days left` })
    expect(page.openForGifts).toBe(true)
    expect(page.designations.map((d) => d.id)).toEqual(['love-packs', 'survivor-fund', 'caregiver-training', 'unrestricted'])
    expect(page.storyHtml).toContain('<h2>What aftercare means</h2>')
    expect(page.storyHtml).not.toContain('<script')
  })

  test('views asking at the same moment share one read, and the next view sees new money at once', async () => {
    const setRaised = (minor: number) =>
      db.execute(sql`update campaign_totals set raised_gifts_minor = ${minor} where campaign_id = (select id from campaigns where slug = ${live})`)
    await setRaised(10_000)
    const [a, b] = await Promise.all([getCampaignPageSnapshot(live), getCampaignPageSnapshot(live)])
    expect(a).toBe(b)
    expect(a!.campaign.raisedGiftsMinor).toBe(10_000)
    await setRaised(20_000)
    expect((await load(live)).progress.giftsMinor).toBe(20_000)
  })

  test('the home page lists live campaigns only, with their bars', async () => {
    const { campaigns: listed } = await homeLoader()
    expect(listed.map((c) => c.slug)).toEqual([live])
    expect(listed[0]!.progress.goalMinor).toBe(3_000_000)
  })

  test('a finished campaign is viewable but takes no gifts', async () => {
    const page = await load('safe-homes-winter-appeal')
    expect(page.campaign.status).toBe('closed')
    expect(page.openForGifts).toBe(false)
    expect(page.timeLeft.label).toBe('Ended')
    const before = await rowCounts()
    expect(unwrap(await post('safe-homes-winter-appeal', validForm)).status).toBe(409)
    expect(await rowCounts()).toEqual(before)
  })

  test.each(['no-such-campaign', 'caregiver-training-2026', '../etc', 'A B', 'Aftercare-Thailand', '', 'x'.repeat(101), 'a--b'])(
    'an unknown, draft or malformed slug %j is a 404, for the page and the form',
    async (slug) => {
      const before = await rowCounts()
      expect(await thrownStatus(load(slug))).toBe(404)
      expect(await thrownStatus(post(slug, validForm))).toBe(404)
      expect(await rowCounts()).toEqual(before)
    },
  )

  test('supporters: settled gifts only, newest first, anonymous donors never by name, no emails', async () => {
    const [campaign] = await db.select({ id: campaigns.id }).from(campaigns).where(sql`slug = ${live}`)
    const people = await db
      .insert(donors)
      .values([
        { email: 'ada@example.org', name: 'Ada Lovelace', country: 'GB' },
        { email: 'hidden@example.org', name: 'Zebedee Secretname', country: 'US' },
        { email: 'pending@example.org', name: 'Pending Person', country: 'US' },
        { email: 'cher@example.org', name: 'Cher', country: 'US' },
      ])
      .returning({ id: donors.id, name: donors.name })
    const id = (name: string) => people.find((p) => p.name === name)!.id
    const gift = (name: string, amountMinor: number, extra: Partial<typeof donations.$inferInsert>) => ({
      campaignId: campaign!.id,
      donorId: id(name),
      donorName: name,
      fiscalPartnerId: 'us',
      designationId: 'survivor-fund',
      frequency: 'one_off' as const,
      amountMinor,
      chargedMinor: amountMinor,
      currency: 'USD',
      campaignAmountMinor: amountMinor,
      donorCountry: 'US',
      ...extra,
    })
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000)
    await db.insert(donations).values([
      gift('Ada Lovelace', 5000, { status: 'succeeded', settledAt: minutesAgo(30) }),
      gift('Zebedee Secretname', 25000, { status: 'succeeded', settledAt: minutesAgo(10), anonymous: true }),
      gift('Pending Person', 10000, { status: 'pending' }),
      gift('Cher', 2500, { status: 'succeeded', settledAt: minutesAgo(5) }),
      gift('Cher', 1500, { status: 'succeeded', settledAt: minutesAgo(1), refundedMinor: 1500 }),
    ])

    const page = await load(live)
    expect(page.supporters).toEqual([
      { name: 'Cher', amount: '$25', when: '5 minutes ago' },
      { name: 'Anonymous', amount: '$250', when: '10 minutes ago' },
      { name: 'Ada L.', amount: '$50', when: '30 minutes ago' },
    ])
    const everything = JSON.stringify(page)
    for (const secret of ['Zebedee', 'Secretname', 'Lovelace', 'Pending', '@example.org']) expect(everything).not.toContain(secret)
  })
})

describe('donation action', () => {
  test.each([
    ['-5', 'Enter an amount above zero.'],
    ['1.005', 'Use at most 2 digits after the dot.'],
    ['abc', 'Enter the amount in digits, like 25 or 1,000.50.'],
    ['25000.01', 'The most we can take in one online gift is $25,000. For a larger gift, please contact us.'],
  ])('a bad amount %j is a 400 with the field error, and nothing is written', async (customAmount, message) => {
    const before = await rowCounts()
    const { status, body } = unwrap(await post(live, { ...validForm, customAmount }))
    expect(status).toBe(400)
    expect(body).toEqual({ status: 'invalid', errors: { customAmount: message }, values: expect.objectContaining({ customAmount, name: 'Ada Lovelace' }) })
    expect(await rowCounts()).toEqual(before)
  })

  test('a filled honeypot is a 400: nothing is written but the refusal and its reason', async () => {
    const before = await rowCounts()
    const { status, body } = unwrap(await post(live, { ...validForm, website: 'https://buy-followers.example' }))
    expect(status).toBe(400)
    expect(body.errors).toEqual({ website: expect.any(String) })
    expect(body.values).not.toHaveProperty('website')
    expect(await rowCounts()).toEqual({ ...before, refused_requests: before.refused_requests! + 1 })
    const { rows } = await db.execute<{ reason: string }>(sql`select reason from refused_requests`)
    expect(rows).toEqual([{ reason: 'honeypot' }])
  })

  test('a valid gift becomes a pending donation with a Stripe checkout, and goes to the review page', async () => {
    const response = await post(live, { ...validForm, customAmount: '1,000.50', coverFee: 'on', anonymous: 'on', tributeType: 'memory', tributeName: 'Grandma Rose' })
    expect(response).toBeInstanceOf(Response)
    const location = (response as Response).headers.get('location')!
    expect(location).toMatch(/^\/donations\/[0-9a-f-]{36}\/review$/)
    const { rows } = await db.execute<{ status: string; amount_minor: number; fee_covered_minor: number; checkout_session_id: string; tribute_name: string; anonymous: boolean }>(
      sql`select status, amount_minor, fee_covered_minor, checkout_session_id, tribute_name, anonymous from donations`,
    )
    expect(rows).toEqual([
      expect.objectContaining({ status: 'pending', amount_minor: 100_050, checkout_session_id: expect.stringMatching(/^cs_test_/), tribute_name: 'Grandma Rose', anonymous: true }),
    ])
    expect(rows[0]!.fee_covered_minor).toBeGreaterThan(0)
  })

  test('a body that is not a form is a 400, not a crash, and writes nothing', async () => {
    const before = await rowCounts()
    const request = new Request(`http://localhost/campaigns/${live}`, { method: 'POST', body: '{"amount": 5}', headers: { 'content-type': 'application/json' } })
    expect(await thrownStatus(action({ request, params: { slug: live }, context }))).toBe(400)
    expect(await rowCounts()).toEqual(before)
  })

  test('a form past 64 KB is a 413 before anything is read into it, and writes nothing', async () => {
    const before = await rowCounts()
    const huge = new URLSearchParams({ ...validForm, tributeName: 'x'.repeat(70 * 1024) })
    const request = new Request(`http://localhost/campaigns/${live}`, { method: 'POST', body: huge })
    expect(await thrownStatus(action({ request, params: { slug: live }, context }))).toBe(413)
    // The same without a Content-Length (a chunked upload): counted as it streams.
    const chunked = new Request(`http://localhost/campaigns/${live}`, {
      method: 'POST',
      body: new Blob([huge.toString()]).stream(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      duplex: 'half',
    } as RequestInit)
    expect(chunked.headers.get('content-length')).toBeNull()
    expect(await thrownStatus(action({ request: chunked, params: { slug: live }, context }))).toBe(413)
    expect(await rowCounts()).toEqual(before)
  })
})
