// The Resend fake accepts what Resend accepts, refuses what it refuses, and keeps an outbox.
import { Resend } from 'resend'
import { expect, test } from 'vitest'
import { getResendOutbox } from '#tests/mocks/resend.ts'

test('sends are stored in the outbox; a missing field is a 422 like Resend’s', async () => {
  const resend = new Resend('re_test_fake')
  const sent = await resend.emails.send({ from: 'LIFT International <giving@liftinternational.org>', to: 'ada@example.org', subject: 'Thank you', html: '<p>Thank you</p>' })
  expect(sent.error).toBeNull()
  expect(sent.data?.id).toMatch(/^[0-9a-f-]{36}$/)
  expect(getResendOutbox()).toEqual([expect.objectContaining({ id: sent.data!.id, to: ['ada@example.org'], subject: 'Thank you', html: '<p>Thank you</p>' })])

  const missing = await resend.emails.send({ from: 'giving@liftinternational.org', to: 'ada@example.org', html: '<p>x</p>' } as never)
  expect(missing.error).toMatchObject({ statusCode: 422, name: 'missing_required_field' })
  const badKey = await new Resend('nope').emails.send({ from: 'giving@liftinternational.org', to: 'ada@example.org', subject: 's', html: 'h' })
  expect(badKey.error).toMatchObject({ statusCode: 403 })
  expect(getResendOutbox()).toHaveLength(1)
})
