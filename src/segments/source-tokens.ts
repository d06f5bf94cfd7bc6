/**
 * A JavaScript source text as tokens, for the routing fingerprint (see source-normalize.ts):
 * comments and layout dropped, string literals by value (as JSON text), numbers by value, template
 * chunks and regular expressions verbatim.
 */

export interface Token {
  /** `s` string literal (JSON text of its value), `n` number, `i` identifier or keyword, `p` punctuator, `x` template chunk or regex (verbatim). */
  k: 's' | 'n' | 'i' | 'p' | 'x'
  v: string
  /** A line break comes before it (automatic semicolon insertion depends on it). */
  nl?: boolean
  /** A `)` closing the head of `if`/`while`/`for`/`with`: a `/` after it starts a regex. */
  head?: boolean
}

/** Keywords whose `(` opens a statement head. */
const STATEMENT_HEADS = new Set(['if', 'while', 'for', 'with'])

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
]

/** Keywords after which `/` starts a regular expression and `(` groups an expression. */
export const EXPRESSION_KEYWORDS = new Set([
  'return',
  'typeof',
  'case',
  'in',
  'of',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
  'else',
  'do',
])

const IDENT_START = /[A-Za-z_$#\u0080-\uffff]/
const IDENT_PART = /[\w$\u0080-\uffff]/
const NUMBER =
  /^(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)n?/

export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  // `${` opens a template substitution, `{` a brace: a `}` closing a substitution resumes the template.
  const braces: Array<'template' | 'brace'> = []
  // Whether each open `(` is a statement head's.
  const parens: boolean[] = []
  let i = 0
  let lineBreak = false
  const template = (start: number, open: string): void => {
    let j = start
    while (j < src.length) {
      const c = src[j]!
      if (c === '\\') j += 2
      else if (c === '`') {
        tokens.push({ k: 'x', v: `${open}${src.slice(start, j)}\`` })
        i = j + 1
        return
      } else if (c === '$' && src[j + 1] === '{') {
        tokens.push({ k: 'x', v: `${open}${src.slice(start, j)}\${` })
        braces.push('template')
        i = j + 2
        return
      } else j++
    }
    tokens.push({ k: 'x', v: open + src.slice(start) })
    i = src.length
  }
  while (i < src.length) {
    const c = src[i]!
    const before = tokens.length
    if (/\s/.test(c)) {
      if (LINE_BREAK.test(c)) lineBreak = true
      i++
      continue
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++
      continue
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2)
      const stop = end < 0 ? src.length : end + 2
      if (LINE_BREAK.test(src.slice(i, stop))) lineBreak = true
      i = stop
      continue
    } else if (c === "'" || c === '"') {
      const [value, end] = readString(src, i)
      tokens.push({ k: 's', v: JSON.stringify(value) })
      i = end
    } else if (c === '`') {
      template(i + 1, '`')
    } else if (c === '}' && braces.at(-1) === 'template') {
      braces.pop()
      template(i + 1, '}')
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(src[i + 1] ?? ''))) {
      const text = NUMBER.exec(src.slice(i))?.[0] ?? c
      tokens.push({ k: 'n', v: numberText(text) })
      i += text.length
    } else if (IDENT_START.test(c)) {
      let j = i + 1
      while (j < src.length && IDENT_PART.test(src[j]!)) j++
      tokens.push({ k: 'i', v: src.slice(i, j) })
      i = j
    } else if (c === '/' && regexAllowed(tokens.at(-1))) {
      const end = regexEnd(src, i)
      tokens.push({ k: 'x', v: src.slice(i, end) })
      i = end
    } else {
      let p = PUNCTUATORS.find((q) => src.startsWith(q, i)) ?? c
      if (p === '?.' && /\d/.test(src[i + 2] ?? '')) p = '?'
      if (p === '{') braces.push('brace')
      if (p === '}') braces.pop()
      const token: Token = { k: 'p', v: p }
      if (p === '(') {
        const prev = tokens.at(-1)
        parens.push(prev?.k === 'i' && STATEMENT_HEADS.has(prev.v))
      }
      if (p === ')' && parens.pop()) token.head = true
      tokens.push(token)
      i += p.length
    }
    if (lineBreak && tokens.length > before) tokens[before]!.nl = true
    lineBreak = false
  }
  return tokens
}

const LINE_BREAK = /[\n\r\u2028\u2029]/

/** A string literal's value and the index after it. */
function readString(src: string, start: number): [string, number] {
  const quote = src[start]
  let value = ''
  let i = start + 1
  while (i < src.length && src[i] !== quote) {
    if (src[i] !== '\\') {
      value += src[i++]
      continue
    }
    const e = src[i + 1] ?? ''
    i += 2
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' }
    if (e in simple) value += simple[e]
    else if (e === '0' && !/\d/.test(src[i] ?? '')) value += '\0'
    else if (e === 'x') {
      value += String.fromCharCode(Number.parseInt(src.slice(i, i + 2), 16))
      i += 2
    } else if (e === 'u' && src[i] === '{') {
      const close = src.indexOf('}', i)
      value += String.fromCodePoint(Number.parseInt(src.slice(i + 1, close), 16))
      i = close + 1
    } else if (e === 'u') {
      value += String.fromCharCode(Number.parseInt(src.slice(i, i + 4), 16))
      i += 4
    } else if (e === '\r') {
      if (src[i] === '\n') i++
    } else if (e !== '\n' && e !== '\u2028' && e !== '\u2029') value += e
  }
  return [value, i + 1]
}

function numberText(text: string): string {
  const plain = text.replaceAll('_', '')
  if (plain.endsWith('n')) {
    try {
      return `${BigInt(plain.slice(0, -1))}n`
    } catch {
      return plain
    }
  }
  const n = Number(plain)
  return Number.isNaN(n) ? plain : String(n)
}

function regexAllowed(prev: Token | undefined): boolean {
  if (!prev) return true
  if (prev.k === 'i') return EXPRESSION_KEYWORDS.has(prev.v)
  if (prev.k === 'p') return (prev.v !== ')' || prev.head === true) && prev.v !== ']' && prev.v !== '}'
  return false
}

function regexEnd(src: string, start: number): number {
  let i = start + 1
  let inClass = false
  while (i < src.length) {
    const c = src[i]!
    if (c === '\\') i += 2
    else {
      if (c === '[') inClass = true
      else if (c === ']') inClass = false
      else if (c === '/' && !inClass) break
      else if (c === '\n') return i
      i++
    }
  }
  i++
  while (i < src.length && IDENT_PART.test(src[i]!)) i++
  return i
}

export function isP(t: Token | undefined, ...values: string[]): boolean {
  return t?.k === 'p' && values.includes(t.v)
}
