/**
 * A function's source text as a normalised token stream, for the routing fingerprint. The same
 * TypeScript must give one text whether Node strips its types (types blanked, layout kept), `tsc`
 * compiles it (reindented, semicolons added) or esbuild reprints it (tsx: double quotes,
 * `(r) =>` for `r =>`, redundant parentheses and trailing commas dropped, numbers reprinted,
 * `{ a: a }` as `{ a }`, `undefined` as `void 0`, `new Foo` as `new Foo()`), while any change of
 * a literal, an identifier or an operator shows. So: comments and layout go, string literals are
 * kept by value (quote style and escapes normalised), numbers by value, and the rewrites above are
 * undone on both sides.
 */

import { EXPRESSION_KEYWORDS, isP, type Token, tokenize } from './source-tokens.ts'

/** The normalised token text of `source` (tokens joined by one space). */
export function normalizedSource(source: string): string {
  return normalize(tokenize(source))
    .map((t) => t.v)
    .join(' ')
}

/** Statements that end at a line break (`return\nx` returns undefined). */
const RESTRICTED = new Set(['return', 'break', 'continue', 'yield'])
const SEMICOLON: Token = { k: 'p', v: ';' }

/** Undoes the reprints of tsc and esbuild listed at the top of the file. */
function normalize(input: readonly Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < input.length; i++) {
    const t = input[i]!
    // Semicolons stay until the parentheses are settled ({@link dropSemicolons}); those a line
    // break stands for are added where the meaning depends on them.
    if (isP(t, '++', '--') && t.nl && endsOperand(out.at(-1))) out.push(SEMICOLON)
    if (t.k === 'i' && RESTRICTED.has(t.v) && !isP(out.at(-1), '.', '?.')) {
      const next = input[i + 1]
      out.push(t)
      if (!next || isP(next, '}') || (next.nl && !isP(next, ';'))) out.push(SEMICOLON)
      continue
    }
    if (t.k === 'i' && t.v === 'undefined' && !isP(out.at(-1), '.', '?.')) {
      out.push({ k: 'i', v: 'void' }, { k: 'n', v: '0' })
      continue
    }
    // Trailing commas.
    if (isP(t, ')', ']', '}') && isP(out.at(-1), ',')) out.pop()
    // `(r) =>` for `r =>`.
    if (isP(t, ')') && out.at(-1)?.k === 'i' && isP(out.at(-2), '(') && isP(input[i + 1], '=>')) {
      const param = out.pop()!
      out.pop()
      out.push(param)
      continue
    }
    // `{ a: a }` as `{ a }`.
    if (
      isP(t, ':') &&
      out.at(-1)?.k === 'i' &&
      isP(out.at(-2), '{', ',') &&
      input[i + 1]?.k === 'i' &&
      input[i + 1]!.v === out.at(-1)!.v &&
      isP(input[i + 2], ',', '}')
    ) {
      i++
      continue
    }
    out.push(t)
    // `new Foo` as `new Foo()` (and `new a.b[c]` as `new a.b[c]()`).
    if (t.k === 'i' && t.v === 'new' && input[i + 1]?.k === 'i') {
      let j = i + 1
      for (;;) {
        if (isP(input[j + 1], '.') && input[j + 2]?.k === 'i') j += 2
        else if (isP(input[j + 1], '[')) j = closing(input, j + 1)
        else break
      }
      if (!isP(input[j + 1], '(')) {
        for (let m = i + 1; m <= j; m++) out.push(input[m]!)
        out.push({ k: 'p', v: '(' }, { k: 'p', v: ')' })
        i = j
      }
    }
  }
  return dropSemicolons(dropRedundantParens(out))
}

/** The index of the bracket closing the one at `open` (the last index when unbalanced). */
function closing(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let j = open; j < tokens.length; j++) {
    if (isP(tokens[j], '(', '[', '{')) depth++
    else if (isP(tokens[j], ')', ']', '}') && --depth === 0) return j
  }
  return tokens.length - 1
}

/**
 * Drops the semicolons tsc and esbuild add or keep where nothing depends on them. Kept: those of
 * a `for` head, one ending a `return`/`break`/`continue`/`yield`, and one before a token that
 * would otherwise continue the previous statement (`a;(b)` is not `a(b)`, `a;++b` not `a++b`).
 */
function dropSemicolons(tokens: readonly Token[]): Token[] {
  const out: Token[] = []
  const forHead: boolean[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (isP(t, '(')) forHead.push(out.at(-1)?.k === 'i' && out.at(-1)!.v === 'for')
    else if (isP(t, ')')) forHead.pop()
    if (!isP(t, ';') || forHead.at(-1)) {
      out.push(t)
      continue
    }
    const prev = out.at(-1)
    const next = tokens[i + 1]
    if (isP(prev, ';')) continue
    if (
      (prev?.k === 'i' && RESTRICTED.has(prev.v)) ||
      isP(next, '(', '[', '+', '-', '++', '--', '/', '/=') ||
      (next?.k === 'x' && (next.v.startsWith('`') || next.v.startsWith('/')))
    ) {
      out.push(t)
    }
  }
  return out
}

const BINARY: Record<string, number> = {
  '||': 4,
  '??': 4,
  '&&': 5,
  '|': 6,
  '^': 7,
  '&': 8,
  '==': 9,
  '!=': 9,
  '===': 9,
  '!==': 9,
  '<': 10,
  '>': 10,
  '<=': 10,
  '>=': 10,
  instanceof: 10,
  in: 10,
  '<<': 11,
  '>>': 11,
  '>>>': 11,
  '+': 12,
  '-': 12,
  '*': 13,
  '/': 13,
  '%': 13,
  '**': 14,
}
const UNARY = 15
const PRIMARY = 18
const ASSIGNMENT = new Set([
  '=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '**=',
  '<<=',
  '>>=',
  '>>>=',
  '&=',
  '|=',
  '^=',
  '&&=',
  '||=',
  '??=',
  '=>',
])

/** True when the token ends an operand (so a following `+`, `-`, `(` or `/` is binary, a call or division). */
function endsOperand(t: Token | undefined): boolean {
  if (!t) return false
  if (t.k === 'p') return t.v === ')' || t.v === ']' || t.v === '}' || t.v === '++' || t.v === '--'
  if (t.k === 'i') return !EXPRESSION_KEYWORDS.has(t.v) && !(t.v in BINARY) && t.v !== 'new'
  return !(t.k === 'x' && t.v.endsWith('${'))
}

/** The precedence of `t` as a binary operator after `prev`, or undefined. */
function binaryPrecedence(t: Token, prev: Token | undefined): number | undefined {
  if (t.k !== 'p' && t.k !== 'i') return undefined
  const p = BINARY[t.v]
  if (p === undefined) return undefined
  return endsOperand(prev) ? p : undefined
}

/**
 * Drops grouping parentheses that operator precedence makes redundant (esbuild does; the source
 * may not): `(a * b) + c`, `x = (y)`, `(a).b`, `return (a + b)`. Kept: calls, parameter lists,
 * statement heads, a group holding a comma, `{`, `function` or `class` first, `??` mixed with
 * `||`/`&&`, and any group whose removal could change the parse.
 */
function dropRedundantParens(tokens: Token[]): Token[] {
  let current = tokens
  for (let pass = 0; pass < 64; pass++) {
    const next = dropOnePass(current)
    if (next.length === current.length) return next
    current = next
  }
  return current
}

function dropOnePass(tokens: Token[]): Token[] {
  const drop = new Set<number>()
  const open: number[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (isP(t, '(')) open.push(i)
    else if (isP(t, ')')) {
      const start = open.pop()
      if (start !== undefined && redundant(tokens, start, i)) {
        drop.add(start)
        drop.add(i)
      }
    }
  }
  return drop.size === 0 ? tokens : tokens.filter((_, i) => !drop.has(i))
}

function redundant(tokens: readonly Token[], start: number, end: number): boolean {
  const before = tokens[start - 1]
  const after = tokens[end + 1]
  if (end === start + 1) return false
  // A call, a parameter list, or the head of if/while/for/switch/catch/with/function.
  if (
    endsOperand(before) ||
    (before?.k === 'i' && !EXPRESSION_KEYWORDS.has(before.v) && !(before.v in BINARY))
  ) {
    return false
  }
  if (isP(after, '=>')) return false
  const first = tokens[start + 1]!
  if (isP(first, '{') || (first.k === 'i' && (first.v === 'function' || first.v === 'class'))) return false
  // The loosest operator at the group's top level.
  let inner = PRIMARY
  let coalesce = false
  let logical = false
  let optional = false
  let depth = 0
  for (let j = start + 1; j < end; j++) {
    const t = tokens[j]!
    if (isP(t, ')', ']', '}') || (t.k === 'x' && t.v.startsWith('}'))) depth--
    if (isP(t, '(', '[', '{') || (t.k === 'x' && t.v.endsWith('${'))) depth++
    if (depth > 0 || isP(t, ')', ']', '}') || t.k === 'x') continue
    if (isP(t, ',')) return false
    if (isP(t, '?.')) optional = true
    if (t.k === 'p' && ASSIGNMENT.has(t.v)) inner = Math.min(inner, 2)
    else if (isP(t, '?', ':')) inner = Math.min(inner, 3)
    else {
      const p = binaryPrecedence(t, tokens[j - 1])
      if (p !== undefined) {
        inner = Math.min(inner, p)
        if (t.v === '??') coalesce = true
        if (t.v === '||' || t.v === '&&') logical = true
      } else if (j === start + 1 && t.k !== 's' && t.k !== 'n' && !isP(t, '[')) {
        // A leading prefix operator (or `new`, `await`, `typeof`): a unary expression.
        if (t.k === 'p' || (t.k === 'i' && (EXPRESSION_KEYWORDS.has(t.v) || t.v === 'new'))) {
          inner = Math.min(inner, UNARY)
        }
      } else if (isP(t, '++', '--') || (t.k === 'i' && t.v === 'new')) inner = Math.min(inner, UNARY)
    }
  }
  // What the group is the left operand of.
  // Nothing binds it on the right: the end, a closing token, or the next statement's first token.
  const free =
    !after ||
    isP(after, ')', ']', '}', ',', ':', ';') ||
    after.k === 's' ||
    after.k === 'n' ||
    (after.k === 'i' && !(after.v in BINARY)) ||
    (after.k === 'x' && after.v.startsWith('}'))
  if (!free) {
    if (isP(after, '.', '?.', '[', '(', '++', '--') || (after.k === 'x' && after.v.startsWith('`'))) {
      if (inner < PRIMARY) return false
      // `(a?.b).c` throws where `a?.b.c` short-circuits.
      if (optional && !isP(after, '?.')) return false
    } else if (isP(after, '?')) {
      if (inner <= 3) return false
    } else {
      const p = BINARY[after.v]
      if (p === undefined) return after.k === 'p' && ASSIGNMENT.has(after.v) && inner === PRIMARY
      if (inner < p || (inner === p && after.v === '**')) return false
      if ((after.v === '??' && logical) || ((after.v === '||' || after.v === '&&') && coalesce)) return false
      if (after.v === '**' && inner === UNARY) return false
    }
  }
  // What the group is the right operand of.
  if (!before) return true
  if (isP(before, '(', '[', '{', ',', '=>', ';') || (before.k === 'p' && ASSIGNMENT.has(before.v)))
    return true
  if (isP(before, '...')) return inner > 2
  if (before.k === 'x' && before.v.endsWith('${')) return true
  if (isP(before, '?', ':')) return inner > 2
  const p = binaryPrecedence(before, tokens[start - 2])
  if (p !== undefined) {
    if (inner < p || (inner === p && before.v !== '**')) return false
    if ((before.v === '??' && logical) || ((before.v === '||' || before.v === '&&') && coalesce)) return false
    return true
  }
  // A prefix operator or keyword (`!`, `-`, `typeof`, `return`, `await`, …).
  if (
    before.k === 'i' &&
    (before.v === 'return' ||
      before.v === 'throw' ||
      before.v === 'case' ||
      before.v === 'else' ||
      before.v === 'do')
  ) {
    return true
  }
  return inner >= UNARY
}
