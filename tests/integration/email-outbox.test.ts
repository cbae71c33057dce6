// The gift thank-you through the email outbox, on real PostgreSQL with Resend faked over HTTP:
// queued by the settlement itself (once, however often Stripe redelivers), sent exactly once by
// any number of senders, retried with backoff, failed for good after the last attempt.
import { asc, eq, sql } from 'drizzle-orm'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, test } from 'vitest'
import { settleDonation } from '#app/models/gift-events.server.ts'
import { countEmailsOwed, enqueueEmail, giftThankYouKey, maxEmailAttempts, retryDelayMs, sendAllDueEmails, sendDueEmails } from '#app/models/email-outbox.server.ts'
import { db } from '#app/utils/db.server.ts'
import { createResendTransport, devOutboxTransport, getEmailTransport, type EmailTransport } from '#app/utils/email.server.ts'
import { parseEnv } from '#app/utils/env.server.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { chargeBalance, createCampaign, createCatalog, createDonation, createDonor } from '#tests/factories.ts'
import { settle } from '#tests/gifts.ts'
import { getResendOutbox } from '#tests/mocks/resend.ts'
import { server } from '#tests/mocks/server.ts'

const from = 'LIFT International <giving@liftinternational.org>'
const resend = createResendTransport({ apiKey: 're_test_outbox', from })
const resendUrl = 'https://api.resend.com/emails'

let campaignId: number

beforeEach(async () => {
  await createCatalog()
  campaignId = (await createCampaign()).campaign.id
})

async function settledGift(options: { amountMinor?: number; email?: string; anonymous?: boolean } = {}) {
  const donor = await createDonor({ email: options.email, name: 'Ada Lovelace' })
  const gift = await createDonation({ campaignId, donorId: donor.id, amountMinor: options.amountMinor ?? 5_000, anonymous: options.anonymous })
  await settle(gift.id, options.amountMinor ?? 5_000)
  return { gift, donor }
}

function outboxRows() {
  return db.select().from(emailOutbox).orderBy(asc(emailOutbox.id))
}

async function outboxRow(key: string) {
  const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, key))
  return row!
}

/**
 * Wraps a transport to record every send it is asked for, before any provider-side dedupe, and to
 * wait on `before` (a delay, a gate the test opens) before passing it on.
 */
function counting(inner: EmailTransport, before: () => Promise<unknown> = async () => {}) {
  const keys: string[] = []
  const transport: EmailTransport = {
    name: inner.name,
    async send(email) {
      keys.push(email.idempotencyKey)
      await before()
      return inner.send(email)
    },
  }
  return { transport, keys }
}

const later = (ms: number, from = new Date()) => new Date(from.getTime() + ms)

describe('queued with the settlement', () => {
  test('a settled gift queues one thank-you to its donor, and a redelivered settlement queues nothing more', async () => {
    const { gift, donor } = await settledGift({ email: 'ada@example.org' })
    expect(await outboxRows()).toEqual([
      expect.objectContaining({ dedupeKey: giftThankYouKey(gift.id), template: 'gift-thank-you', toAddress: 'ada@example.org', props: { donationId: gift.id }, status: 'queued', attempts: 0 }),
    ])
    expect(donor.email).toBe('ada@example.org')

    // Stripe delivers the charge again (a new event id, the same charge): already settled.
    expect(await settle(gift.id, 5_000)).toEqual({ applied: false })
    expect(await outboxRows()).toHaveLength(1)
  })

  test('a settlement that rolls back leaves no email behind', async () => {
    const gift = await createDonation({ campaignId })
    await expect(
      db.transaction(async (tx) => {
        await settleDonation(tx, gift.id, { chargeId: 'ch_rolled_back', balance: chargeBalance(5_000), settledAt: new Date() })
        throw new Error('the webhook failed after settling')
      }),
    ).rejects.toThrow('the webhook failed after settling')
    expect(await outboxRows()).toEqual([])
  })

  test('every monthly payment is its own gift and gets its own thank-you; anonymous gifts still thank the donor', async () => {
    const donor = await createDonor({ email: 'monthly@example.org' })
    const [plan] = await db
      .insert(recurringPlans)
      .values({ campaignId, donorId: donor.id, fiscalPartnerId: 'us', designationId: 'survivor-fund', amountMinor: 2_000, chargedMinor: 2_000, currency: 'USD', status: 'active' })
      .returning()
    for (const installment of [1, 2]) {
      const [payment] = await db
        .insert(donations)
        .values({
          campaignId, donorId: donor.id, fiscalPartnerId: 'us', designationId: 'survivor-fund', frequency: 'monthly', recurringPlanId: plan!.id,
          installment, amountMinor: 2_000, chargedMinor: 2_000, currency: 'USD', campaignAmountMinor: 2_000, donorName: donor.name, donorCountry: 'US', anonymous: true,
        })
        .returning()
      await settle(payment!.id, 2_000)
    }
    await sendDueEmails({ transport: resend })
    const sent = getResendOutbox()
    expect(sent.map((e) => [e.to, e.subject])).toEqual([
      [['monthly@example.org'], 'Thank you for your monthly gift to Aftercare for Survivors of Trafficking in Thailand'],
      [['monthly@example.org'], "Thank you for this month's gift to Aftercare for Survivors of Trafficking in Thailand"],
    ])
    expect(sent[1]!.text).toMatch(/monthly gift \(payment 2\) of \$20\.00 USD/)
    expect(sent[1]!.text).toMatch(/your name is not shown on the campaign page/)
  })
})

describe('sending', () => {
  test('Resend gets the rendered thank-you once, with the outbox key as its idempotency key', async () => {
    const { gift } = await settledGift({ email: 'ada@example.org' })
    expect(await sendDueEmails({ transport: resend })).toEqual({ claimed: 1, sent: 1, retrying: 0, failed: 0 })
    const [email] = getResendOutbox()
    expect(email).toMatchObject({ from, to: ['ada@example.org'], idempotencyKey: giftThankYouKey(gift.id) })
    expect(email!.subject).toBe('Thank you for your gift to Aftercare for Survivors of Trafficking in Thailand')
    expect(email!.text).toMatch(/Your gift of \$50\.00 USD to Aftercare for Survivors of Trafficking in Thailand arrived on/)
    expect(email!.text).toMatch(/One Day's Wages added \$50\.00 USD\./)
    expect(email!.text).toMatch(/^Thank you, Ada\n/)
    expect(email!.text).toMatch(/This email is LIFT International's acknowledgement of your gift\./)
    expect(email!.html).toContain('Survivor Fund')

    const row = await outboxRow(giftThankYouKey(gift.id))
    expect(row).toMatchObject({ status: 'sent', transport: 'resend', providerMessageId: email!.id, attempts: 1, lastError: null, subject: email!.subject })
    expect(row.sentAt).toBeInstanceOf(Date)
    expect(row.html).toBe(email!.html)

    expect(await sendDueEmails({ transport: resend })).toMatchObject({ claimed: 0, sent: 0 })
    expect(getResendOutbox()).toHaveLength(1)
  })

  test('two senders at once send every email exactly once', async () => {
    for (let i = 0; i < 12; i++) await settledGift({ amountMinor: 1_000 + i })
    const { transport, keys } = counting(resend, () => new Promise((resolve) => setTimeout(resolve, 5)))
    const [a, b] = await Promise.all([sendAllDueEmails({ transport, limit: 3 }), sendAllDueEmails({ transport, limit: 3 })])
    expect(a.sent + b.sent).toBe(12)
    expect(keys).toHaveLength(12)
    expect(new Set(keys).size).toBe(12)
    expect(getResendOutbox()).toHaveLength(12)
    const rows = await outboxRows()
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true)
  })

  test('a row another sender holds is skipped, not waited for', async () => {
    const first = await settledGift()
    await settledGift()
    const { id } = await outboxRow(giftThankYouKey(first.gift.id))
    let release!: () => void
    let locked!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const isLocked = new Promise<void>((resolve) => (locked = resolve))
    const holder = db.transaction(async (tx) => {
      await tx.execute(sql`select id from email_outbox where id = ${id} for update`)
      locked()
      await held
    })
    await isLocked
    const report = await sendDueEmails({ transport: devOutboxTransport })
    release()
    await holder
    expect(report).toMatchObject({ claimed: 1, sent: 1 })
    expect(await outboxRow(giftThankYouKey(first.gift.id))).toMatchObject({ status: 'queued', attempts: 0 })
  })

  test('what a sender owes: due or being sent, not scheduled for later or waiting out a backoff', async () => {
    const { gift } = await settledGift()
    expect(await countEmailsOwed()).toBe(1)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const gated = counting(devOutboxTransport, () => gate)
    const sending = sendDueEmails({ transport: gated.transport })
    await expect.poll(() => gated.keys).toEqual([giftThankYouKey(gift.id)])
    // Claimed: no longer due, still owed.
    expect(await countEmailsOwed()).toBe(1)
    release()
    expect(await sending).toMatchObject({ sent: 1 })
    expect(await countEmailsOwed()).toBe(0)

    await enqueueEmail(db, { key: 'gift-thank-you:later', template: 'gift-thank-you', to: 'ada@example.org', cause: { donationId: gift.id }, sendAfter: later(60_000) })
    expect(await countEmailsOwed()).toBe(0)

    const second = await settledGift()
    server.use(http.post(resendUrl, () => HttpResponse.json({ statusCode: 500, name: 'internal_server_error', message: 'Unexpected error' }, { status: 500 }), { once: true }))
    expect(await sendDueEmails({ transport: resend })).toMatchObject({ retrying: 1 })
    expect(await outboxRow(giftThankYouKey(second.gift.id))).toMatchObject({ status: 'queued', attempts: 1 })
    expect(await countEmailsOwed()).toBe(0)
  })

  test('a Resend 5xx is retried after a backoff, and the retry sends it', async () => {
    const { gift } = await settledGift()
    server.use(http.post(resendUrl, () => HttpResponse.json({ statusCode: 500, name: 'internal_server_error', message: 'Unexpected error' }, { status: 500 }), { once: true }))
    const now = new Date()
    expect(await sendDueEmails({ transport: resend, now })).toMatchObject({ claimed: 1, retrying: 1, sent: 0 })
    let row = await outboxRow(giftThankYouKey(gift.id))
    expect(row).toMatchObject({ status: 'queued', attempts: 1, sentAt: null })
    expect(row.lastError).toMatch(/Resend 500 internal_server_error/)
    expect(row.sendAfter.getTime()).toBe(now.getTime() + retryDelayMs(1))
    expect(getResendOutbox()).toEqual([])

    // Not due before its time.
    expect(await sendDueEmails({ transport: resend, now: later(retryDelayMs(1) - 1_000, now) })).toMatchObject({ claimed: 0 })
    expect(await sendDueEmails({ transport: resend, now: later(retryDelayMs(1), now) })).toMatchObject({ claimed: 1, sent: 1 })
    row = await outboxRow(giftThankYouKey(gift.id))
    expect(row).toMatchObject({ status: 'sent', attempts: 2, lastError: null })
    expect(getResendOutbox()).toHaveLength(1)
  })

  test(`after ${maxEmailAttempts} failed attempts the email is failed for good`, async () => {
    const { gift } = await settledGift()
    server.use(http.post(resendUrl, () => HttpResponse.json({ statusCode: 503, name: 'application_error', message: 'Service unavailable' }, { status: 503 })))
    let now = new Date()
    for (let attempt = 1; attempt <= maxEmailAttempts; attempt++) {
      const report = await sendDueEmails({ transport: resend, now })
      expect(report).toMatchObject(attempt < maxEmailAttempts ? { claimed: 1, retrying: 1 } : { claimed: 1, failed: 1 })
      now = later(retryDelayMs(attempt), now)
    }
    const row = await outboxRow(giftThankYouKey(gift.id))
    expect(row).toMatchObject({ status: 'failed', attempts: maxEmailAttempts, sentAt: null })
    expect(row.lastError).toMatch(/Resend 503/)
    expect(await sendDueEmails({ transport: resend, now: later(24 * 3_600_000, now) })).toMatchObject({ claimed: 0 })
    expect(getResendOutbox()).toEqual([])
  })

  test('an email Resend refuses as malformed fails at once, without retries', async () => {
    await db.transaction((tx) => enqueueEmail(tx, { key: 'gift-thank-you:bad-address', template: 'gift-thank-you', to: 'not an address', cause: { donationId: '00000000-0000-4000-8000-000000000000' } }))
    const { gift } = await settledGift()
    await db.update(emailOutbox).set({ toAddress: 'not an address' }).where(eq(emailOutbox.dedupeKey, giftThankYouKey(gift.id)))
    const report = await sendDueEmails({ transport: resend })
    // The first row names no real gift, so it cannot even be composed: that is retried (a fix
    // may be deployed); the second is refused by Resend with a 422: that is final.
    expect(report).toMatchObject({ claimed: 2, retrying: 1, failed: 1 })
    expect(await outboxRow('gift-thank-you:bad-address')).toMatchObject({ status: 'queued', lastError: expect.stringMatching(/does not exist/) })
    expect(await outboxRow(giftThankYouKey(gift.id))).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/Resend 422 validation_error/) })
  })
})

describe('the dev outbox transport', () => {
  test('without RESEND_API_KEY mail is captured in the outbox and nothing goes to Resend', async () => {
    const transport = getEmailTransport(parseEnv({ NODE_ENV: 'development' }))
    expect(transport).toBe(devOutboxTransport)
    const { gift } = await settledGift({ email: 'ada@example.org' })
    expect(await sendDueEmails({ transport })).toMatchObject({ sent: 1 })
    const row = await outboxRow(giftThankYouKey(gift.id))
    expect(row).toMatchObject({ status: 'sent', transport: 'outbox', providerMessageId: null, toAddress: 'ada@example.org' })
    expect(row.html).toContain('One Day&#x27;s Wages added $50.00 USD')
    expect(row.text).toMatch(/No goods or services were provided in exchange for this contribution\./)
    expect(getResendOutbox()).toEqual([])
  })

  test('with RESEND_API_KEY the transport is Resend; production refuses to run without it', () => {
    expect(getEmailTransport(parseEnv({ NODE_ENV: 'development', RESEND_API_KEY: 're_live_key' })).name).toBe('resend')
    expect(() => parseEnv({ NODE_ENV: 'production', APP_URL: 'https://give.example.org' })).toThrow(/RESEND_API_KEY is required in production/)
    expect(() => parseEnv({ EMAIL_FROM: 'nobody' })).toThrow(/EMAIL_FROM must be an address/)
  })
})
