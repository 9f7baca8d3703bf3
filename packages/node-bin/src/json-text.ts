// Finding a value's text inside a line of JSON, without a second parse.

/** The next quote or bracket. */
const STRUCTURAL = /["[\]{}]/g
/** What ends a number, true, false or null inside an object. */
const SCALAR_END = /[ \t\n\r,}\]]/g
const QUOTE = 0x22
const OPEN_BRACKET = 0x5b
const OPEN_BRACE = 0x7b
const BACKSLASH = 0x5c
const COMMA = 0x2c
const CLOSE_BRACE = 0x7d

/**
 * The text of member `key` of the JSON object that `line` holds, or undefined
 * if the object has no such member or has it twice (JSON.parse keeps the last).
 * `line` must be one JSON.parse accepted, with an object at the top: the scan
 * relies on its grammar, and jumps from quote to bracket with native searches.
 */
export function memberText (line: string, key: string): string | undefined {
  let found: string | undefined
  try {
    let at = skipWhitespace(line, skipWhitespace(line, 0) + 1)
    while (line.charCodeAt(at) !== CLOSE_BRACE) {
      const keyEnd = stringEnd(line, at)
      let name = line.slice(at + 1, keyEnd - 1)
      if (name.includes('\\')) name = JSON.parse(line.slice(at, keyEnd)) as string
      const valueStart = skipWhitespace(line, skipWhitespace(line, keyEnd) + 1)
      const valueEnd = valueEndAt(line, valueStart)
      if (name === key) {
        if (found !== undefined) return undefined
        found = line.slice(valueStart, valueEnd)
      }
      at = skipWhitespace(line, valueEnd)
      if (line.charCodeAt(at) !== COMMA) break
      at = skipWhitespace(line, at + 1)
    }
  } catch {
    return undefined
  }
  return found
}

function skipWhitespace (line: string, at: number): number {
  for (let char = line.charCodeAt(at); char === 0x20 || char === 0x09 || char === 0x0a || char === 0x0d; char = line.charCodeAt(at)) at++
  return at
}

/** Just past the value that starts at `at`. */
function valueEndAt (line: string, at: number): number {
  const first = line.charCodeAt(at)
  if (first === QUOTE) return stringEnd(line, at)
  if (first !== OPEN_BRACKET && first !== OPEN_BRACE) return searchFrom(SCALAR_END, line, at)
  let depth = 0
  while (true) {
    const found = searchFrom(STRUCTURAL, line, at)
    const char = line.charCodeAt(found)
    if (char === QUOTE) {
      at = stringEnd(line, found)
      continue
    }
    depth += char === OPEN_BRACKET || char === OPEN_BRACE ? 1 : -1
    at = found + 1
    if (depth === 0) return at
  }
}

/** Just past the string whose opening quote is at `at`. */
function stringEnd (line: string, at: number): number {
  for (let from = at + 1; ; ) {
    const quote = line.indexOf('"', from)
    if (quote < 0) throw new Error('unterminated string')
    let backslashes = 0
    while (line.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote + 1
    from = quote + 1
  }
}

function searchFrom (pattern: RegExp, line: string, at: number): number {
  pattern.lastIndex = at
  if (!pattern.test(line)) throw new Error('unexpected end of line')
  return pattern.lastIndex - 1
}
