// The transactional outbox for email. A row is written in the same transaction as the change that
// causes it (so an email exists exactly when its cause committed, and a replayed cause finds its
// key taken); a worker sends due rows later. Sending is at-least-once towards the provider and
// made exactly-once for the donor by the idempotency key Resend honours (docs/decisions/0301).
import { and, asc, count, desc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import { databaseClock } from '#app/utils/database-clock.server.ts'
import { db } from '#app/utils/db.server.ts'
import { getEmailTransport, type EmailTransport } from '#app/utils/email.server.ts'
import type { Executor } from '#db/client.ts'
import { donations, donors, recurringPlans } from '#db/schema/giving.ts'
import { emailOutbox } from '#db/schema/ops.ts'
import { renderEmail, type EmailCause, type EmailTemplate, type RenderedEmail } from './email-templates.server.ts'

/** Attempts before a row is marked failed for good. With the backoff below, about 2 hours. */
export const maxEmailAttempts = 8
/** How long a claimed row is left to its sender before another may take it. */
const claimLeaseMs = 5 * 60_000

/** Queued and its time has come, by the given database clock. */
const isDue = (now: SQL) => and(eq(emailOutbox.status, 'queued'), lte(emailOutbox.sendAfter, now))

/** 30 s, 1 min, 2 min … capped at an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 60 * 60_000)
}

export interface QueuedEmail<T extends EmailTemplate> {
  /** At most one email per key, ever: "<template>:<cause id>". Also Resend's idempotency key. */
  key: string
  template: T
  /**
   * The address, or a scalar subquery yielding it, so a caller inside a hot transaction queues
   * without an extra round trip.
   */
  to: string | SQL<string>
  cause: EmailCause<T>
  sendAfter?: Date
}

/** Queues an email inside the caller's transaction; a key already queued changes nothing. */
export async function enqueueEmail<T extends EmailTemplate>(tx: Executor, email: QueuedEmail<T>): Promise<{ queued: boolean }> {
  const inserted = await tx
    .insert(emailOutbox)
    .values({
      dedupeKey: email.key,
      template: email.template,
      toAddress: email.to,
      props: email.cause,
      ...(email.sendAfter ? { sendAfter: email.sendAfter } : {}),
    })
    .onConflictDoNothing({ target: emailOutbox.dedupeKey })
    .returning({ id: emailOutbox.id })
  return { queued: inserted.length > 0 }
}

export const giftThankYouKey = (donationId: string) => `gift-thank-you:${donationId}`

/** The gift's donor's address, as a subquery: queued from inside a hot transaction without a round trip. */
const donorAddress = (donationId: string) =>
  sql<string>`(select ${donors.email} from ${donors} join ${donations} on ${donations.donorId} = ${donors.id} where ${donations.id} = ${donationId})`

/**
 * The donor's thank-you for a settled gift, queued by the settlement itself. Every settled gift
 * gets one, each monthly payment included (each is its own donation), anonymous ones too:
 * anonymity is about public pages, not about the donor's own inbox.
 */
export function enqueueGiftThankYou(tx: Executor, donationId: string) {
  return enqueueEmail(tx, {
    key: giftThankYouKey(donationId),
    template: 'gift-thank-you',
    to: donorAddress(donationId),
    cause: { donationId },
  })
}

/**
 * A change to what the donor gave (a refund, a failed refund, a dispute taking money back or
 * returning it), told to a donor whose acknowledgement may already be in their inbox, so that no
 * acknowledgement outlives the gift it describes. One notice per movement of money, keyed by its
 * balance transaction. None while the acknowledgement is still waiting untouched: it is composed
 * when sent, so it will show the change itself. Its row is locked first, so the mailer cannot
 * start composing it between this look and the commit (it skips locked rows).
 */
export async function enqueueGiftChanged(
  tx: Executor,
  donationId: string,
  change: { movementId: string; kind: EmailCause<'gift-changed'>['kind']; amountMinor: number; at: Date },
): Promise<{ queued: boolean }> {
  const [acknowledgement] = await tx
    .select({ status: emailOutbox.status, attempts: emailOutbox.attempts })
    .from(emailOutbox)
    .where(eq(emailOutbox.dedupeKey, giftThankYouKey(donationId)))
    .for('update')
  const mayHaveGone = acknowledgement?.status === 'sent' || (acknowledgement?.status === 'queued' && acknowledgement.attempts > 0)
  if (!mayHaveGone) return { queued: false }
  return enqueueEmail(tx, {
    key: `gift-changed:${change.movementId}`,
    template: 'gift-changed',
    to: donorAddress(donationId),
    cause: { donationId, kind: change.kind, amountMinor: change.amountMinor, at: change.at.toISOString() },
  })
}

/**
 * A gift whose payment failed after the donor left checkout believing it was on its way (a bank
 * debit still being collected): they hear that nothing was given, once per gift.
 */
export function enqueuePaymentFailed(tx: Executor, cause: EmailCause<'payment-failed'>) {
  return enqueueEmail(tx, { key: `payment-failed:${cause.donationId}`, template: 'payment-failed', to: donorAddress(cause.donationId), cause })
}

const planDonorAddress = (planId: string) =>
  sql<string>`(select ${donors.email} from ${donors} join ${recurringPlans} on ${recurringPlans.donorId} = ${donors.id} where ${recurringPlans.id} = ${planId})`

/**
 * A later payment of a monthly gift did not go through. Once per invoice: Stripe's retries of the
 * same payment are not news to the donor, and if they all fail the gift ends with its own notice.
 */
export function enqueueMonthlyPaymentFailed(tx: Executor, cause: EmailCause<'monthly-payment-failed'>) {
  return enqueueEmail(tx, { key: `monthly-payment-failed:${cause.invoiceId}`, template: 'monthly-payment-failed', to: planDonorAddress(cause.planId), cause })
}

/** A monthly gift ended: no further payments will be taken. Once per gift, whatever ended it. */
export function enqueueMonthlyGiftEnded(tx: Executor, cause: EmailCause<'monthly-gift-ended'>) {
  return enqueueEmail(tx, { key: `monthly-gift-ended:${cause.planId}`, template: 'monthly-gift-ended', to: planDonorAddress(cause.planId), cause })
}

export interface SendReport {
  claimed: number
  sent: number
  /** Failed this time, queued again with backoff. */
  retrying: number
  /** Failed for good: a permanent error, or the last attempt. */
  failed: number
}

/**
 * Sends what is due, oldest first, up to `limit`. Rows are claimed with FOR UPDATE SKIP LOCKED and
 * pushed past a lease in one statement, so concurrent senders never take the same row; the send
 * itself happens outside any transaction. A sender that dies mid-send leaves its row to be
 * retried after the lease, with the same idempotency key.
 */
export async function sendDueEmails(options: { limit?: number; now?: Date; transport?: EmailTransport } = {}): Promise<SendReport> {
  // The database's clock, which queued the rows (send_after defaults to now()).
  const { now, after } = databaseClock(options.now)
  const transport = options.transport ?? getEmailTransport()
  const due = db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(isDue(now))
    .orderBy(asc(emailOutbox.sendAfter), asc(emailOutbox.id))
    .limit(options.limit ?? 20)
    .for('update', { skipLocked: true })
  const claimed = await db
    .update(emailOutbox)
    .set({ attempts: sql`${emailOutbox.attempts} + 1`, sendAfter: after(claimLeaseMs) })
    .where(inArray(emailOutbox.id, due))
    .returning({ id: emailOutbox.id, key: emailOutbox.dedupeKey, template: emailOutbox.template, to: emailOutbox.toAddress, cause: emailOutbox.props, attempts: emailOutbox.attempts })

  const report: SendReport = { claimed: claimed.length, sent: 0, retrying: 0, failed: 0 }
  // One at a time: Resend limits requests per second, and a batch is small.
  for (const row of claimed.sort((a, b) => a.id - b.id)) {
    let rendered: RenderedEmail | null = null
    let outcome: Awaited<ReturnType<EmailTransport['send']>>
    try {
      rendered = await renderEmail(db, row.template, row.cause)
      outcome = await transport.send({ to: row.to, ...rendered, idempotencyKey: row.key })
    } catch (error) {
      outcome = { ok: false, permanent: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
    }
    const content = rendered ? { subject: rendered.subject, html: rendered.html, text: rendered.text } : {}
    // Only a row still queued is written: if the lease ran out and another sender finished it,
    // its record stands.
    const stillOurs = and(eq(emailOutbox.id, row.id), eq(emailOutbox.status, 'queued'), eq(emailOutbox.attempts, row.attempts))
    if (outcome.ok) {
      await db
        .update(emailOutbox)
        .set({ ...content, status: 'sent', sentAt: now, transport: outcome.transport, providerMessageId: outcome.messageId, lastError: null })
        .where(stillOurs)
      report.sent++
    } else if (outcome.permanent || row.attempts >= maxEmailAttempts) {
      await db.update(emailOutbox).set({ ...content, status: 'failed', lastError: outcome.error }).where(stillOurs)
      report.failed++
    } else {
      await db
        .update(emailOutbox)
        .set({ ...content, sendAfter: after(retryDelayMs(row.attempts)), lastError: outcome.error })
        .where(stillOurs)
      report.retrying++
    }
  }
  return report
}

/** Sends batches until nothing is due; for the worker loop. */
export async function sendAllDueEmails(options: Parameters<typeof sendDueEmails>[0] = {}): Promise<SendReport> {
  const total: SendReport = { claimed: 0, sent: 0, retrying: 0, failed: 0 }
  const limit = options.limit ?? 20
  for (;;) {
    const report = await sendDueEmails({ ...options, limit })
    for (const k of Object.keys(total) as (keyof SendReport)[]) total[k] += report[k]
    if (report.claimed < limit) return total
  }
}

/**
 * Emails a sender owes right now: due, or claimed and still being rendered or sent on a first
 * attempt (the claim moved send_after past its lease). Emails scheduled for later, or waiting out
 * a retry's backoff, are not owed yet. A claimed retry cannot be told from one still waiting, so
 * it is not counted. For waiting until the mailer is idle, as the webhook benchmark does.
 */
export async function countEmailsOwed(exec: Executor = db): Promise<number> {
  const claimedOnFirstAttempt = and(eq(emailOutbox.status, 'queued'), gt(emailOutbox.attempts, 0), isNull(emailOutbox.lastError))
  const [row] = await exec.select({ owed: count() }).from(emailOutbox).where(or(isDue(databaseClock().now), claimedOnFirstAttempt))
  return row!.owed
}

// The dev outbox: what a developer reads at /dev/outbox instead of a mailbox.

export function listOutboxEmails(options: { limit?: number } = {}) {
  return db
    .select({
      id: emailOutbox.id,
      template: emailOutbox.template,
      to: emailOutbox.toAddress,
      subject: emailOutbox.subject,
      status: emailOutbox.status,
      transport: emailOutbox.transport,
      attempts: emailOutbox.attempts,
      lastError: emailOutbox.lastError,
      createdAt: emailOutbox.createdAt,
      sentAt: emailOutbox.sentAt,
    })
    .from(emailOutbox)
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(options.limit ?? 100)
}

/** One email as sent, or as it would be sent now when it has not been rendered yet. */
export async function getOutboxEmail(id: number) {
  const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.id, id))
  if (!row) return null
  if (row.html !== null && row.subject !== null) return { ...row, preview: false, html: row.html, subject: row.subject }
  const rendered = await renderEmail(db, row.template, row.props)
  return { ...row, preview: true, html: rendered.html, subject: rendered.subject }
}
