// The dev mail outbox pages: a list of captured email newest first and one email rendered; a bad
// id is a 404 that writes nothing; in production neither page exists.
import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { giftThankYouKey, sendDueEmails } from '#app/models/email-outbox.server.ts'
import { loader as emailLoader } from '#app/routes/dev.outbox.$id.tsx'
import { loader as listLoader } from '#app/routes/dev.outbox._index.tsx'
import { db } from '#app/utils/db.server.ts'
import { devOutboxTransport } from '#app/utils/email.server.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { thrownStatus } from '#tests/checkouts.ts'
import { createCampaign, createCatalog, createDonation, createDonor } from '#tests/factories.ts'
import { settle } from '#tests/gifts.ts'

// The environment is parsed once per process; the production case swaps in NODE_ENV only.
const mode = vi.hoisted(() => ({ production: false }))
vi.mock('#app/utils/env.server.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#app/utils/env.server.ts')>()
  return { ...real, getEnv: () => ({ ...real.getEnv(), ...(mode.production ? { NODE_ENV: 'production' as const } : {}) }) }
})

const context = { clientIp: '127.0.0.1' }

beforeEach(async () => {
  await createCatalog()
})

afterEach(() => {
  mode.production = false
})

async function captured(email: string) {
  const { campaign } = await createCampaign()
  const donor = await createDonor({ email })
  const gift = await createDonation({ campaignId: campaign.id, donorId: donor.id })
  await settle(gift.id, 5_000)
  await sendDueEmails({ transport: devOutboxTransport })
  const [row] = await db.select({ id: emailOutbox.id }).from(emailOutbox).where(sql`${emailOutbox.dedupeKey} = ${giftThankYouKey(gift.id)}`)
  return row!.id
}

function list() {
  return listLoader()
}

function show(id: string) {
  return emailLoader({ request: new Request(`http://localhost/dev/outbox/${id}`), params: { id }, context })
}

async function outboxState() {
  const { rows } = await db.execute<{ n: number; attempts: number }>(sql`select count(*)::int as n, coalesce(sum(attempts), 0)::int as attempts from email_outbox`)
  return rows[0]
}

test('the list shows captured email newest first, and each one opens rendered', async () => {
  const older = await captured('first@example.org')
  const newer = await captured('second@example.org')
  const { emails } = await list()
  expect(emails.map((e) => [e.id, e.to, e.status])).toEqual([
    [newer, 'second@example.org', 'captured'],
    [older, 'first@example.org', 'captured'],
  ])
  expect(emails[0]!.subject).toBe('Thank you for your gift to Aftercare for Survivors of Trafficking in Thailand')

  const email = await show(String(newer))
  expect(email).toMatchObject({ id: newer, to: 'second@example.org', status: 'captured', preview: false })
  expect(email.html).toContain('This email is LIFT International&#x27;s acknowledgement of your gift.')
  expect(email.text).toMatch(/One Day's Wages added \$50\.00 USD/)
})

test('an email not sent yet opens as a preview, and opening it sends nothing', async () => {
  const { campaign } = await createCampaign()
  const gift = await createDonation({ campaignId: campaign.id })
  await settle(gift.id, 5_000)
  const [row] = await db.select().from(emailOutbox)
  const email = await show(String(row!.id))
  expect(email).toMatchObject({ status: 'queued', preview: true })
  expect(email.html).toContain('$50.00 USD')
  const [after] = await db.select().from(emailOutbox)
  expect(after).toEqual(row)
})

test('a bad or unknown id is a 404 and writes nothing', async () => {
  const id = await captured('ada@example.org')
  const before = await outboxState()
  for (const bad of ['abc', '0', '-1', '1e3', ' 1', '0x10', '2147483648', '99999999999', String(id + 1000)]) {
    expect(await thrownStatus(show(bad)), bad).toBe(404)
  }
  expect(await outboxState()).toEqual(before)
})

test('in production neither page exists', async () => {
  const id = await captured('ada@example.org')
  mode.production = true
  expect(await thrownStatus(list())).toBe(404)
  expect(await thrownStatus(show(String(id)))).toBe(404)
  mode.production = false
  expect(await show(String(id))).toMatchObject({ id })
})
