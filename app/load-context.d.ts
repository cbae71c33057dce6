import '@remix-run/node'

declare module '@remix-run/node' {
  interface AppLoadContext {
    /** The client's address (from X-Forwarded-For only as far as TRUST_PROXY proxies reach). */
    clientIp: string
  }
}
