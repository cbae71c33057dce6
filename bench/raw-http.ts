// A load generator's HTTP/1.1 client for the benchmarks: one kept-alive socket, one request at a
// time, each request's bytes built before the clock starts. On a 2-CPU machine the client shares
// the CPUs with the server and PostgreSQL; node:http's client spends about half a millisecond of
// CPU per request (as much as the webhook lane itself), which would be measured as the server's
// slowness. This one spends a few microseconds, as wrk or autocannon would.
import net from 'node:net'

export interface RawResponse {
  status: number
  body: string
}

/** The bytes of one request, ready to write. */
export function requestBytes(url: URL, method: string, headers: Record<string, string>, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8')
  const head = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, `content-length: ${payload.byteLength}`]
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'content-length') head.push(`${name}: ${value}`)
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload])
}

const headEnd = Buffer.from('\r\n\r\n')

export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0)
  private waiting: { resolve(response: RawResponse): void; reject(error: Error): void } | null = null
  /** Set once the server has closed the socket (an idle keep-alive timeout, say): open another. */
  closed = false

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
      this.take()
    })
    const fail = (error: Error) => {
      this.waiting?.reject(error)
      this.waiting = null
    }
    socket.on('error', fail)
    socket.on('close', () => {
      this.closed = true
      fail(new Error('connection closed'))
    })
  }

  static open(url: URL): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends prepared request bytes and resolves with the response (Content-Length or chunked). */
  send(request: Buffer): Promise<RawResponse> {
    if (this.waiting) throw new Error('one request at a time per connection')
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
      this.socket.write(request)
    })
  }

  close() {
    this.socket.destroy()
  }

  private take() {
    const end = this.buffer.indexOf(headEnd)
    if (end < 0 || !this.waiting) return
    const head = this.buffer.subarray(0, end).toString('latin1')
    const body = end + headEnd.length
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)
    const taken = length ? this.fixedLength(body, Number(length[1])) : /\r\ntransfer-encoding: *chunked/i.test(head) ? this.chunked(body) : null
    if (!taken) return
    this.buffer = this.buffer.subarray(taken.next)
    const waiting = this.waiting
    this.waiting = null
    waiting.resolve({ status: Number(head.slice(9, 12)), body: taken.body })
  }

  private fixedLength(from: number, length: number): { body: string; next: number } | null {
    if (this.buffer.length < from + length) return null
    return { body: this.buffer.subarray(from, from + length).toString('utf8'), next: from + length }
  }

  /** A chunked body: size line, data, CRLF, until the empty chunk (no trailers expected). */
  private chunked(from: number): { body: string; next: number } | null {
    const parts: Buffer[] = []
    let at = from
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n', at)
      if (lineEnd < 0) return null
      const size = parseInt(this.buffer.subarray(at, lineEnd).toString('latin1'), 16)
      if (size === 0) {
        if (this.buffer.length < lineEnd + 4) return null
        return { body: Buffer.concat(parts).toString('utf8'), next: lineEnd + 4 }
      }
      if (this.buffer.length < lineEnd + 2 + size + 2) return null
      parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
  }
}
