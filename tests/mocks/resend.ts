// msw handlers for Resend's send API: validates what Resend validates (an API key; from, to,
// subject and a body), answers { id } and keeps every accepted email in an outbox for assertions.
import { randomUUID } from 'node:crypto'
import { http, HttpResponse, type HttpHandler } from 'msw'

export interface SentEmail {
  id: string
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  replyTo: string[]
  subject: string
  html: string | null
  text: string | null
  headers: Record<string, string>
  tags: { name: string; value: string }[]
  attachments: { filename?: string; content?: string; content_type?: string }[]
  idempotencyKey: string | null
  createdAt: Date
}

let outbox: SentEmail[] = []
const byIdempotencyKey = new Map<string, string>()

/** Every email Resend accepted since the last reset, oldest first. */
export function getResendOutbox(): SentEmail[] {
  return outbox.map((email) => ({ ...email }))
}

export function resetResendOutbox(): void {
  outbox = []
  byIdempotencyKey.clear()
}

class ResendError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const list = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)])
const address = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/

function validate(body: unknown, idempotencyKey: string | null): SentEmail {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ResendError(422, 'validation_error', 'The request body must be a JSON object.')
  const email = body as Record<string, unknown>
  for (const field of ['from', 'to', 'subject'] as const) {
    if (email[field] === undefined || email[field] === null || email[field] === '') {
      throw new ResendError(422, 'missing_required_field', `Missing \`${field}\` field.`)
    }
  }
  if (typeof email.html !== 'string' && typeof email.text !== 'string') {
    throw new ResendError(422, 'missing_required_field', 'Missing `html` or `text` field.')
  }
  const to = list(email.to)
  if (to.length === 0 || to.length > 50) throw new ResendError(422, 'validation_error', '`to` must have between 1 and 50 recipients.')
  for (const recipient of [String(email.from), ...to, ...list(email.cc), ...list(email.bcc), ...list(email.reply_to)]) {
    if (!address.test(recipient.trim())) throw new ResendError(422, 'validation_error', `Invalid email address: ${recipient}. Use the format \`email@example.com\` or \`Name <email@example.com>\`.`)
  }
  return {
    id: randomUUID(),
    from: String(email.from),
    to,
    cc: list(email.cc),
    bcc: list(email.bcc),
    replyTo: list(email.reply_to),
    subject: String(email.subject),
    html: typeof email.html === 'string' ? email.html : null,
    text: typeof email.text === 'string' ? email.text : null,
    headers: (email.headers as Record<string, string> | undefined) ?? {},
    tags: (email.tags as SentEmail['tags'] | undefined) ?? [],
    attachments: (email.attachments as SentEmail['attachments'] | undefined) ?? [],
    idempotencyKey,
    createdAt: new Date(),
  }
}

function authorise(request: Request) {
  const key = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
  if (!key) throw new ResendError(401, 'missing_api_key', 'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY')
  if (!/^re_\w+$/.test(key)) throw new ResendError(403, 'invalid_api_key', 'API key is invalid')
}

async function handle(request: Request, send: (body: unknown, key: string | null) => unknown) {
  try {
    authorise(request)
    let body: unknown
    try {
      body = await request.json()
    } catch {
      throw new ResendError(422, 'validation_error', 'The request body is not valid JSON.')
    }
    return HttpResponse.json(send(body, request.headers.get('idempotency-key')) as Record<string, unknown>)
  } catch (error) {
    if (error instanceof ResendError) {
      return HttpResponse.json({ statusCode: error.statusCode, name: error.code, message: error.message }, { status: error.statusCode })
    }
    throw error
  }
}

function accept(email: SentEmail): { id: string } {
  // Resend answers a repeated idempotency key with the first email's id and sends nothing.
  const key = email.idempotencyKey
  const previous = key ? byIdempotencyKey.get(key) : undefined
  if (previous) return { id: previous }
  outbox.push(email)
  if (key) byIdempotencyKey.set(key, email.id)
  return { id: email.id }
}

export const resendHandlers: HttpHandler[] = [
  http.post('https://api.resend.com/emails', ({ request }) => handle(request, (body, key) => accept(validate(body, key)))),
  http.post('https://api.resend.com/emails/batch', ({ request }) =>
    handle(request, (body, key) => {
      if (!Array.isArray(body) || body.length === 0 || body.length > 100) throw new ResendError(422, 'validation_error', 'A batch must hold between 1 and 100 emails.')
      const emails = body.map((item) => validate(item, null))
      const previous = key ? byIdempotencyKey.get(key) : undefined
      if (previous) return { data: previous.split(',').map((id) => ({ id })) }
      emails.forEach((email) => outbox.push(email))
      if (key) byIdempotencyKey.set(key, emails.map((e) => e.id).join(','))
      return { data: emails.map((email) => ({ id: email.id })) }
    }),
  ),
  http.get('https://api.resend.com/emails/:id', ({ params }) => {
    const email = outbox.find((e) => e.id === params.id)
    if (!email) return HttpResponse.json({ statusCode: 404, name: 'not_found', message: 'Email not found' }, { status: 404 })
    return HttpResponse.json({
      object: 'email',
      id: email.id,
      from: email.from,
      to: email.to,
      cc: email.cc,
      bcc: email.bcc,
      reply_to: email.replyTo,
      subject: email.subject,
      html: email.html,
      text: email.text,
      created_at: email.createdAt.toISOString(),
      last_event: 'delivered',
    })
  }),
]
