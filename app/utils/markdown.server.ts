// Campaign stories: Markdown written by admins, rendered to HTML that is safe to inject. Markdown
// lets raw HTML through, so the sanitiser is what stands between a pasted snippet (or a
// compromised admin account) and every donor's browser. The allowlist is deliberately small:
// see docs/decisions/0004-markdown-allowlist.md before adding to it.
import { Marked } from 'marked'
import sanitizeHtml from 'sanitize-html'

// Our own instance, so no other module's marked.use() can change how stories render.
const marked = new Marked({ gfm: true, breaks: false, async: false })

const sanitizeOptions: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'h2', 'h3', 'h4', 'strong', 'em', 'a', 'ul', 'ol', 'li', 'blockquote', 'br', 'hr', 'code', 'pre'],
  allowedAttributes: { a: ['href', 'title', 'rel'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // script, style and the like vanish with their contents; other unknown tags keep their text.
  disallowedTagsMode: 'discard',
  transformTags: {
    // The page's own title is the only h1; a story's headings start one level below it.
    h1: 'h2',
    h5: 'h4',
    h6: 'h4',
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } }),
  },
}

/** Markdown to sanitised HTML, without memoising: for callers that render a story once. */
export function renderMarkdownUncached(markdown: string): string {
  const html = marked.parse(markdown) as string
  return sanitizeHtml(html, sanitizeOptions)
}

// Stories change rarely and are read on every page view; rendering them is the most expensive
// part of the page. Keyed by the Markdown itself, so an edit is a new key and never stale.
const cacheLimit = 64
const cache = new Map<string, string>()

export function renderMarkdown(markdown: string): string {
  const hit = cache.get(markdown)
  if (hit !== undefined) {
    // Re-insert to mark it recently used; the oldest entry is the first to go.
    cache.delete(markdown)
    cache.set(markdown, hit)
    return hit
  }
  const html = renderMarkdownUncached(markdown)
  cache.set(markdown, html)
  if (cache.size > cacheLimit) cache.delete(cache.keys().next().value!)
  return html
}
