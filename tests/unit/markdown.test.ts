import { describe, expect, test } from 'vitest'
import { renderMarkdown, renderMarkdownUncached } from '#app/utils/markdown.server.ts'

describe('renderMarkdown', () => {
  test('renders the Markdown a story uses', () => {
    const html = renderMarkdown('# Title\n\nSome **bold** and *em*.\n\n- one\n- two\n\n> quote\n\n[LIFT](https://liftinternational.org)')
    expect(html).toContain('<h2>Title</h2>')
    expect(html).toContain('<strong>bold</strong>')
    expect(html).toContain('<em>em</em>')
    expect(html).toContain('<li>one</li>')
    expect(html).toContain('<blockquote>')
    expect(html).toContain('<a href="https://liftinternational.org" rel="noopener noreferrer">LIFT</a>')
  })

  test.each([
    ['<script>alert(1)</script>', /script|alert/i],
    ['<iframe src="https://evil.example"></iframe>', /iframe|evil/i],
    ['<img src=x onerror="alert(1)">', /onerror|<img/i],
    ['[click](javascript:alert(1))', /javascript:/i],
    ['<a href="javascript:alert(1)">x</a>', /javascript:/i],
    ['[x](JaVaScRiPt:alert(1))', /javascript:/i],
    ['<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', /data:/i],
    ['<p onclick="steal()">hi</p>', /onclick|steal/i],
    ['<style>body{display:none}</style>', /style|display/i],
    ['<svg><script>alert(1)</script></svg>', /svg|script|alert/i],
    ['<form action="https://evil.example"><input name="card"></form>', /form|input/i],
    ['<a href="//evil.example">x</a>', /evil/i],
    ['<p style="position:fixed">x</p>', /style|fixed/i],
    ['<object data="x"></object><embed src="x">', /object|embed/i],
  ])('strips hostile input %#', (input, forbidden) => {
    expect(renderMarkdownUncached(input)).not.toMatch(forbidden)
  })

  test('every link gets rel="noopener noreferrer", overriding any rel given', () => {
    const html = renderMarkdownUncached('<a href="https://example.org" rel="opener" target="_blank">x</a>')
    expect(html.trim()).toBe('<p><a href="https://example.org" rel="noopener noreferrer">x</a></p>')
  })

  test('memoises by input and stays bounded', () => {
    const first = renderMarkdown('Hello **world**')
    expect(renderMarkdown('Hello **world**')).toBe(first)
    for (let i = 0; i < 500; i++) renderMarkdown(`story ${i}`)
    expect(renderMarkdown('Hello **world**')).toBe(first)
  })
})
