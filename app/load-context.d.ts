import '@remix-run/node'

declare module '@remix-run/node' {
  interface AppLoadContext {
    /** The client's address (X-Forwarded-For only when TRUST_PROXY is set). */
    clientIp: string
  }
}
