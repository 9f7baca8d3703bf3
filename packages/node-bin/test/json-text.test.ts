import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { memberText } from '../src/json-text.js'
import { payloadOf } from '../src/payload.js'

describe('memberText', () => {
  test('finds a top-level member as written, whatever the order, spacing and neighbours', () => {
    const data = '{"data":{"data":"\\"data\\":"},"s":"a\\\\","b":["]",{"}":[]}],"n":-1.5e3}'
    for (const line of [
      `{"type":"send","peerId":"p","data":${data},"id":5}`,
      `{"data":${data},"type":"send"}`,
      ` { "type" : "send" , "id" : "x\\"y" , "data" :\t${data} \r}`,
      `{"type":"send","d\\u0061ta":${data}}`
    ]) {
      assert.equal(memberText(line, 'data'), data, line)
    }
  })

  test('scalars: strings with escapes, numbers, true, false and null', () => {
    for (const value of ['"a \\" \\\\ \\u00e9"', '0', '-12.5E-3', 'true', 'false', 'null', '""', '[]', '{}']) {
      assert.equal(memberText(`{"type":"publish","data":${value},"topic":"t"}`, 'data'), value)
      assert.equal(memberText(`{"type":"publish","data":${value}}`, 'data'), value)
    }
  })

  test('no member, or the member twice: undefined, and payloadOf prints the parsed value', () => {
    assert.equal(memberText('{"type":"send","peerId":"p"}', 'data'), undefined)
    assert.equal(memberText('{}', 'data'), undefined)
    const twice = '{"type":"send","data":1,"data":{"a":2}}'
    assert.equal(memberText(twice, 'data'), undefined)
    assert.equal(Buffer.from(payloadOf(JSON.parse(twice).data, twice)).toString(), '{"a":2}')
  })

  test('random values in random lines: the text found parses to the value parsed', () => {
    let seed = 7
    const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T
    const space = (): string => pick(['', '', ' ', '\t', ' \r '])
    const value = (depth: number): string => {
      const kind = depth > 3 ? random() * 4 : random() * 6
      if (kind < 1) return JSON.stringify(pick(['', 'x', 'a"b', 'back\\slash', '[{}]', '\u2028', 'é😀', '\\"']))
      if (kind < 2) return String(pick([0, -1, 3.25, 1e21, -2.5e-7]))
      if (kind < 3) return pick(['true', 'false', 'null'])
      if (kind < 4) return JSON.stringify(pick(['"', '\\', '}', ']', ',"data":1,']))
      if (kind < 5) return `[${space()}${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(`${space()},${space()}`)}${space()}]`
      return `{${space()}${Array.from({ length: Math.floor(random() * 4) }, () => `${JSON.stringify(pick(['data', 'a', 'd"', '\\']))}${space()}:${space()}${value(depth + 1)}`).join(`${space()},${space()}`)}${space()}}`
    }
    for (let i = 0; i < 2_000; i++) {
      const data = value(0)
      const members = [`"type":${space()}"send"`, `"peerId":"p"`, `"data":${space()}${data}`, `"id":${pick(['1', '"one"'])}`].sort(() => random() - 0.5)
      const line = `${space()}{${space()}${members.join(`${space()},${space()}`)}${space()}}${space()}`
      const text = memberText(line, 'data')
      assert.deepEqual(text === undefined ? undefined : JSON.parse(text), JSON.parse(line).data, line)
      assert.equal(text, data, line)
    }
  })
})
