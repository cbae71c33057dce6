// html-to-text ships no types; this is the part of its API the email renderer uses (v10).
declare module 'html-to-text' {
  export interface SelectorDefinition {
    selector: string
    format?: string
    options?: Record<string, unknown>
  }
  export interface HtmlToTextOptions {
    wordwrap?: number | false | null
    selectors?: SelectorDefinition[]
  }
  /** Compiles the options once; the returned function converts a document with them. */
  export function compile(options?: HtmlToTextOptions): (html: string) => string
  export function convert(html: string, options?: HtmlToTextOptions): string
}
