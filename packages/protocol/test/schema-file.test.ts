import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkSchemaFile, generateSchema } from '../scripts/gen-schema.mjs'
import * as protocol from '../src/index.js'

// Generated from src rather than dist, so a stale build cannot hide a stale file.

test('docs/protocol.schema.json is up to date with the zod schemas', async () => {
  const problem = await checkSchemaFile(protocol)
  assert.equal(problem, undefined, problem)
})

test('the generated schema is deterministic', async () => {
  assert.equal(await generateSchema(protocol), await generateSchema(protocol))
})

test('the generated schema names every command, event and error code, and every $ref resolves', async () => {
  const document = JSON.parse(await generateSchema(protocol))
  const defs: Record<string, unknown> = document.$defs
  const pascal = (name: string): string => name.replace(/(^|_)(\w)/g, (_, __, letter: string) => letter.toUpperCase())

  for (const name of ['Command', 'Event', 'ErrorCode', 'ResultEvent']) assert.ok(name in defs, `$defs.${name}`)
  for (const type of protocol.COMMAND_TYPES) {
    assert.ok(`${pascal(type)}Command` in defs, `$defs.${pascal(type)}Command`)
    assert.ok(`${pascal(type)}Result` in defs, `$defs.${pascal(type)}Result`)
  }
  for (const type of ['ready', 'message', 'peer_discovered', 'peer_connected', 'peer_disconnected', 'error', 'log']) {
    assert.ok(`${pascal(type)}Event` in defs, `$defs.${pascal(type)}Event`)
  }
  assert.deepEqual(defs.ErrorCode, { type: 'string', enum: protocol.ErrorCodeSchema.options })
  assert.deepEqual(defs.JsonValue, {}, 'any JSON value')

  const refs = [...refsIn(document)]
  assert.ok(refs.length > 0)
  for (const ref of refs) {
    assert.ok(ref.startsWith('#/$defs/') && ref.slice('#/$defs/'.length) in defs, `dangling $ref ${ref}`)
  }
})

function * refsIn (schema: unknown): Generator<string> {
  if (typeof schema !== 'object' || schema === null) return
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref') yield value as string
    else yield * refsIn(value)
  }
}
