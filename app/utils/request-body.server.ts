// Request bodies read with a ceiling. `request.formData()` and `request.text()` hold whatever a
// client sends in memory, so one oversized post could exhaust a web process; every body this app
// reads goes through here instead, and a sender past the limit hears 413.

export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`A body here is at most ${maxBytes} bytes`)
  }
}

/** The body's bytes, refused once they pass `maxBytes`, whatever Content-Length claimed. */
export async function readBytesWithin(request: Request, maxBytes: number): Promise<Buffer<ArrayBuffer>> {
  if (Number(request.headers.get('content-length')) > maxBytes) throw new BodyTooLarge(maxBytes)
  if (!request.body) return Buffer.alloc(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new BodyTooLarge(maxBytes)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

/**
 * A form post's fields. Throws a Response for the route to return: 413 past `maxBytes`, 400 for a
 * body that is not a form.
 */
export async function readFormWithin(request: Request, maxBytes: number, notAForm: string): Promise<FormData> {
  const bytes = await readBytesWithin(request, maxBytes).catch((error: unknown) => {
    if (error instanceof BodyTooLarge) throw new Response(`A form here is at most ${maxBytes / 1024} KB.`, { status: 413, statusText: 'Payload Too Large' })
    throw error
  })
  return new Response(bytes, { headers: { 'content-type': request.headers.get('content-type') ?? '' } }).formData().catch(() => {
    throw new Response(notAForm, { status: 400, statusText: 'Bad Request' })
  })
}
