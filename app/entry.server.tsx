import { Transform, type TransformCallback } from 'node:stream'
import { createReadableStreamFromReadable, type EntryContext } from '@remix-run/node'
import { RemixServer } from '@remix-run/react'
import { isbot } from 'isbot'
import { renderToPipeableStream } from 'react-dom/server'

const abortDelay = 5_000

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
) {
  // Bots get the whole document at once; people get it streamed as soon as the shell is ready.
  const waitForAll = isbot(request.headers.get('user-agent') ?? '')
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false
    // Gives up on whatever is still pending after abortDelay; cleared once nothing is, so a busy
    // server does not keep every finished render alive (and then abort it) for five seconds.
    const timer = setTimeout(() => abort(), abortDelay)
    const respond = () => {
      shellRendered = true
      const body = new CoalescingStream()
      responseHeaders.set('Content-Type', 'text/html; charset=utf-8')
      resolve(
        new Response(createReadableStreamFromReadable(body), {
          headers: responseHeaders,
          status: responseStatusCode,
        }),
      )
      pipe(body)
    }
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer context={remixContext} url={request.url} abortDelay={abortDelay} />,
      {
        onShellReady() {
          if (!waitForAll) respond()
        },
        onAllReady() {
          clearTimeout(timer)
          if (waitForAll) respond()
        },
        onShellError(error: unknown) {
          clearTimeout(timer)
          reject(error)
        },
        onError(error: unknown) {
          responseStatusCode = 500
          // Errors after the shell are logged; before it, onShellError rejects.
          if (shellRendered) console.error(error)
        },
      },
    )
  })
}

/**
 * React writes its HTML in 2 KB pieces, and every piece then travels alone through the web-stream
 * adapter and into its own socket write: on a 20 KB page that per-piece overhead costs more than
 * rendering. This joins whatever React writes in one turn of the event loop into one chunk, so a
 * page goes out in a write or two, while content that arrives later (a Suspense boundary) still
 * streams as soon as it is ready.
 */
class CoalescingStream extends Transform {
  private pending: Uint8Array[] = []
  private size = 0
  private scheduled = false

  override _transform(chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback) {
    this.pending.push(chunk)
    this.size += chunk.byteLength
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.release())
    }
    callback()
  }

  override _flush(callback: TransformCallback) {
    this.release()
    callback()
  }

  private release() {
    this.scheduled = false
    if (this.size === 0) return
    this.push(Buffer.concat(this.pending, this.size))
    this.pending = []
    this.size = 0
  }
}
