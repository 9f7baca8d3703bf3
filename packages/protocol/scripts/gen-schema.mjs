#!/usr/bin/env node
/**
 * Generates docs/protocol.schema.json from the zod schemas of @p2p-node/protocol,
 * so clients in other languages can generate their types from the same source.
 *
 *   node packages/protocol/scripts/gen-schema.mjs           write the file
 *   node packages/protocol/scripts/gen-schema.mjs --check   exit 1 if the file is out of date
 *
 * Reads the built package (packages/protocol/dist), so run `pnpm build` first;
 * `pnpm gen:schema` does both. `zod` resolves from packages/protocol, the same
 * instance the package itself uses.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { realpathSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as z from 'zod/mini'

/** Where the generated schema is committed. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../../docs/protocol.schema.json', import.meta.url))
const SCHEMA_FILE_NAME = 'docs/protocol.schema.json'
const DIST_URL = new URL('../dist/index.js', import.meta.url)

/** Keywords that come first in every schema object, in this order; the rest follow alphabetically, then $defs. */
const LEADING_KEYWORDS = ['$schema', '$id', '$ref', 'title', 'description', 'type', 'const', 'enum', 'properties', 'required']
/** Keywords whose value maps names to schemas: the names keep their order (fields as declared). */
const NAMED_SCHEMAS = new Set(['$defs', 'properties', 'patternProperties', 'dependentSchemas'])
/** Keywords whose value is JSON data, not a schema: left as it is. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples'])

/**
 * Builds the JSON Schema document as the exact text of the file.
 * Every exported `FooSchema` of the protocol module becomes `$defs.Foo`, the
 * name of its TypeScript type; schemas that use one another refer by `$ref`.
 *
 * @param {Record<string, unknown>} [protocol] the protocol module; defaults to the built package
 * @returns {Promise<string>}
 */
export async function generateSchema (protocol) {
  protocol ??= await importBuiltPackage()

  const registry = z.registry()
  const names = Object.keys(protocol).filter((key) => key.endsWith('Schema') && protocol[key] instanceof z.core.$ZodType).sort()
  for (const name of names) registry.add(protocol[name], { id: name.slice(0, -'Schema'.length) })

  // io 'input' describes what the parsers accept. Commands reject fields they
  // do not define (strict objects: `additionalProperties: false`); events are
  // plain objects, so a client may ignore fields a later version adds.
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/$defs/${id}` })

  for (const required of ['Command', 'Event', 'ErrorCode']) {
    if (schemas[required] === undefined) throw new Error(`the protocol module exports no ${required}Schema`)
  }

  const $defs = {}
  for (const name of Object.keys(schemas).sort()) {
    const { $schema, $id, ...schema } = schemas[name]
    $defs[name] = schema
  }

  const document = canonical({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'p2p-node protocol',
    description: `JSON-lines protocol of p2p-node, version ${protocol.PROTOCOL_VERSION}. ` +
      'Each line on stdin is one Command, each line on stdout one Event; every value in $defs is named after ' +
      'its TypeScript type in @p2p-node/protocol. Generated from the zod schemas by ' +
      'packages/protocol/scripts/gen-schema.mjs (`pnpm gen:schema`); do not edit by hand.',
    anyOf: [{ $ref: '#/$defs/Command' }, { $ref: '#/$defs/Event' }],
    $defs
  })
  return JSON.stringify(document, null, 2) + '\n'
}

/**
 * Compares the committed file with what would be generated.
 *
 * @param {Record<string, unknown>} [protocol] the protocol module; defaults to the built package
 * @returns {Promise<string | undefined>} why the file is out of date, or undefined when it is current
 */
export async function checkSchemaFile (protocol) {
  const expected = await generateSchema(protocol)
  let actual
  try {
    actual = await readFile(SCHEMA_FILE, 'utf8')
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
    return `${SCHEMA_FILE_NAME} does not exist; run \`pnpm gen:schema\` and commit it`
  }
  if (actual === expected) return undefined
  return `${SCHEMA_FILE_NAME} is out of date with the zod schemas in packages/protocol/src ` +
    `(first difference at line ${firstDifferentLine(actual, expected)}); run \`pnpm gen:schema\` and commit it`
}

async function importBuiltPackage () {
  try {
    return await import(DIST_URL.href)
  } catch (err) {
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || err.url !== DIST_URL.href) throw err
    throw new Error(`${fileURLToPath(DIST_URL)} is missing; run \`pnpm build\` first (or \`pnpm gen:schema\`, which does)`)
  }
}

/** Sorts schema keywords into a fixed order, recursively, so the output does not depend on zod's emission order. */
function canonical (schema) {
  if (Array.isArray(schema)) return schema.map(canonical)
  if (schema === null || typeof schema !== 'object') return schema
  const result = {}
  for (const key of Object.keys(schema).sort(compareKeywords)) {
    const value = schema[key]
    if (DATA_KEYWORDS.has(key)) {
      result[key] = value
    } else if (NAMED_SCHEMAS.has(key)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, member]) => [name, canonical(member)]))
    } else {
      result[key] = canonical(value)
    }
  }
  return result
}

function compareKeywords (a, b) {
  if (a === '$defs' || b === '$defs') return (a === '$defs' ? 1 : 0) - (b === '$defs' ? 1 : 0)
  const rankA = LEADING_KEYWORDS.indexOf(a)
  const rankB = LEADING_KEYWORDS.indexOf(b)
  if (rankA !== -1 || rankB !== -1) {
    return (rankA === -1 ? Infinity : rankA) - (rankB === -1 ? Infinity : rankB)
  }
  return a < b ? -1 : a > b ? 1 : 0
}

function firstDifferentLine (a, b) {
  const linesA = a.split('\n')
  const linesB = b.split('\n')
  let line = 0
  while (line < linesA.length && line < linesB.length && linesA[line] === linesB[line]) line++
  return line + 1
}

async function main (args) {
  const unknown = args.filter((arg) => arg !== '--check')
  if (unknown.length > 0) {
    console.error(`gen-schema: unknown argument ${unknown[0]}\nusage: gen-schema.mjs [--check]`)
    return 2
  }
  if (args.includes('--check')) {
    const problem = await checkSchemaFile()
    if (problem !== undefined) {
      console.error(`gen-schema: ${problem}`)
      return 1
    }
    console.error(`gen-schema: ${SCHEMA_FILE_NAME} is up to date`)
    return 0
  }
  await writeFile(SCHEMA_FILE, await generateSchema())
  console.error(`gen-schema: wrote ${SCHEMA_FILE_NAME}`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
