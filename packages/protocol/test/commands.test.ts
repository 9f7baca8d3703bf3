import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type * as z from 'zod/mini'
import {
  COMMAND_TYPES,
  CommandSchema,
  BanCommandSchema,
  ConnectCommandSchema,
  DhtFindProvidersCommandSchema,
  DhtGetCommandSchema,
  DhtProvideCommandSchema,
  DhtPutCommandSchema,
  DiscoverCommandSchema, HistoryCommandSchema,
  LookupCommandSchema,
  PingCommandSchema,
  PeersCommandSchema,
  PublishCommandSchema,
  SendCommandSchema,
  ShutdownCommandSchema,
  SubscribeCommandSchema,
  UnbanCommandSchema,
  UnsubscribeCommandSchema,
  decodeCommand
} from '../src/index.js'
import type { CommandType, ErrorCode } from '../src/index.js'

const PEER_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const BOOTSTRAP_ADDR = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER_ID}`

/** One realistic line per command, as a client writes it, with its schema. */
const examples: Record<CommandType, { line: string, schema: z.ZodMiniType }> = {
  connect: { line: `{"type":"connect","id":1,"port":4002,"bootstrapPeers":["${BOOTSTRAP_ADDR}"],"timeoutMs":10000}`, schema: ConnectCommandSchema },
  send: { line: `{"type":"send","id":"req-2","peerId":"${PEER_ID}","data":{"text":"hello","n":1}}`, schema: SendCommandSchema },
  subscribe: { line: '{"type":"subscribe","id":3,"topic":"chat"}', schema: SubscribeCommandSchema },
  unsubscribe: { line: '{"type":"unsubscribe","id":"req-4","topic":"chat"}', schema: UnsubscribeCommandSchema },
  publish: { line: '{"type":"publish","id":5,"topic":"chat","data":"hello everyone"}', schema: PublishCommandSchema },
  history: { line: '{"type":"history","id":17,"topic":"chat","since":1795000000000,"limit":500}', schema: HistoryCommandSchema },
  discover: { line: '{"type":"discover","id":"req-6","topic":"chat","timeoutMs":5000}', schema: DiscoverCommandSchema },
  peers: { line: '{"type":"peers","id":7}', schema: PeersCommandSchema },
  ping: { line: '{"type":"ping","id":9,"peerId":"bob"}', schema: PingCommandSchema },
  lookup: { line: '{"type":"lookup","id":10,"name":"bob","timeoutMs":5000}', schema: LookupCommandSchema },
  dht_put: { line: '{"type":"dht_put","id":11,"key":"services/gpu","value":{"url":"tcp://10.0.0.5"},"ttlSeconds":600}', schema: DhtPutCommandSchema },
  dht_get: { line: '{"type":"dht_get","id":12,"key":"services/gpu"}', schema: DhtGetCommandSchema },
  dht_provide: { line: '{"type":"dht_provide","id":13,"key":"model:llama"}', schema: DhtProvideCommandSchema },
  dht_find_providers: { line: '{"type":"dht_find_providers","id":14,"key":"model:llama"}', schema: DhtFindProvidersCommandSchema },
  ban: { line: `{"type":"ban","id":15,"peerId":"${PEER_ID}"}`, schema: BanCommandSchema },
  unban: { line: `{"type":"unban","id":16,"peerId":"${PEER_ID}"}`, schema: UnbanCommandSchema },
  shutdown: { line: '{"type":"shutdown","id":"req-8"}', schema: ShutdownCommandSchema }
}

describe('command schemas', () => {
  for (const type of COMMAND_TYPES) {
    const { line, schema } = examples[type]

    test(`${type} accepts its example`, () => {
      const value = JSON.parse(line)
      assert.equal(schema.safeParse(value).success, true)
      assert.deepEqual(decodeCommand(line), { ok: true, value })
    })

    test(`${type} accepts a string id, an integer id and no id`, () => {
      const { id, ...withoutId } = JSON.parse(line)
      for (const command of [{ ...withoutId, id: 'a-string-id' }, { ...withoutId, id: 42 }, withoutId]) {
        assert.equal(CommandSchema.safeParse(command).success, true, JSON.stringify(command))
      }
    })

    test(`${type} rejects an id that is an object, a float or a boolean`, () => {
      const { id, ...withoutId } = JSON.parse(line)
      for (const badId of [{ n: 1 }, 1.5, true]) {
        assert.equal(CommandSchema.safeParse({ ...withoutId, id: badId }).success, false, JSON.stringify(badId))
      }
    })
  }

  test('send and publish accept any JSON value as data, null included', () => {
    for (const data of [null, 0, false, '', [], {}, [1, 'two', { three: 3 }]]) {
      assert.equal(SendCommandSchema.safeParse({ type: 'send', peerId: PEER_ID, data }).success, true, JSON.stringify(data))
      assert.equal(PublishCommandSchema.safeParse({ type: 'publish', topic: 'chat', data }).success, true, JSON.stringify(data))
    }
  })

  test('subscribe takes history as true, false or a range; history rejects a bad range', () => {
    for (const history of [true, false, {}, { since: 0 }, { limit: 10 }, { since: 1_795_000_000_000, limit: 100_000 }]) {
      assert.equal(SubscribeCommandSchema.safeParse({ type: 'subscribe', topic: 'chat', history }).success, true, JSON.stringify(history))
    }
    for (const history of ['yes', 1, { since: -1 }, { limit: 0 }, { limit: 100_001 }, { since: 1.5 }]) {
      assert.equal(SubscribeCommandSchema.safeParse({ type: 'subscribe', topic: 'chat', history }).success, false, JSON.stringify(history))
      if (typeof history === 'object') assert.equal(HistoryCommandSchema.safeParse({ type: 'history', topic: 'chat', ...history }).success, false, JSON.stringify(history))
    }
  })

  test('connect accepts port 0 (any free port) and no fields at all', () => {
    assert.equal(ConnectCommandSchema.safeParse({ type: 'connect', port: 0 }).success, true)
    assert.equal(ConnectCommandSchema.safeParse({ type: 'connect' }).success, true)
  })
})

describe('decodeCommand', () => {
  /** [what is wrong, line, code, text the message must contain, id the error must carry] */
  const failures: Array<[string, string, ErrorCode, string, (string | number)?]> = [
    ['bad JSON', '{"type":"peers",', 'INVALID_JSON', 'not valid JSON'],
    ['an empty line', '', 'INVALID_JSON', 'not valid JSON'],
    ['an array', '[{"type":"peers"}]', 'INVALID_COMMAND', 'got an array'],
    ['a string', '"peers"', 'INVALID_COMMAND', 'got a string'],
    ['null', 'null', 'INVALID_COMMAND', 'got null'],
    ['a missing type', '{"id":1,"topic":"chat"}', 'INVALID_COMMAND', 'field "type"', 1],
    ['a numeric type', '{"id":1,"type":3}', 'INVALID_COMMAND', 'field "type"', 1],
    ['an unknown type', '{"id":"req-9","type":"dial"}', 'UNKNOWN_COMMAND', 'unknown command type "dial"', 'req-9'],
    ['an object id', '{"id":{"n":1},"type":"peers"}', 'INVALID_COMMAND', 'field "id"'],
    ['a float id', '{"id":1.5,"type":"peers"}', 'INVALID_COMMAND', 'field "id"'],
    ['a boolean id', '{"id":true,"type":"peers"}', 'INVALID_COMMAND', 'field "id"'],
    ['a missing peerId', '{"id":2,"type":"send","data":"hi"}', 'INVALID_COMMAND', 'field "peerId"', 2],
    ['a number for peerId', '{"id":2,"type":"send","peerId":12345,"data":"hi"}', 'INVALID_COMMAND', 'field "peerId"', 2],
    ['a missing data', `{"id":"s","type":"send","peerId":"${PEER_ID}"}`, 'INVALID_COMMAND', 'field "data"', 's'],
    ['a missing data on publish', '{"id":5,"type":"publish","topic":"chat"}', 'INVALID_COMMAND', 'field "data"', 5],
    ['an empty topic', '{"id":3,"type":"subscribe","topic":""}', 'INVALID_COMMAND', 'field "topic"', 3],
    ['a missing topic', '{"id":3,"type":"discover"}', 'INVALID_COMMAND', 'field "topic"', 3],
    ['a number for topic', '{"id":3,"type":"unsubscribe","topic":7}', 'INVALID_COMMAND', 'field "topic"', 3],
    ['a negative port', '{"id":1,"type":"connect","port":-1}', 'INVALID_COMMAND', 'field "port"', 1],
    ['a fractional port', '{"id":1,"type":"connect","port":4001.5}', 'INVALID_COMMAND', 'field "port"', 1],
    ['a port above 65535', '{"id":1,"type":"connect","port":65536}', 'INVALID_COMMAND', 'field "port"', 1],
    ['a string port', '{"id":1,"type":"connect","port":"4001"}', 'INVALID_COMMAND', 'field "port"', 1],
    ['bootstrapPeers as a string', `{"id":1,"type":"connect","bootstrapPeers":"${BOOTSTRAP_ADDR}"}`, 'INVALID_COMMAND', 'field "bootstrapPeers"', 1],
    ['a zero timeoutMs', '{"id":6,"type":"discover","topic":"chat","timeoutMs":0}', 'INVALID_COMMAND', 'field "timeoutMs"', 6],
    ['a name with a space', '{"id":10,"type":"lookup","name":"bob smith"}', 'INVALID_COMMAND', 'field "name"', 10],
    ['a missing value on dht_put', '{"id":11,"type":"dht_put","key":"k"}', 'INVALID_COMMAND', 'field "value"', 11],
    ['a fractional ttlSeconds', '{"id":11,"type":"dht_put","key":"k","value":1,"ttlSeconds":1.5}', 'INVALID_COMMAND', 'field "ttlSeconds"', 11],
    ['a ttlSeconds over 48 hours', '{"id":11,"type":"dht_put","key":"k","value":1,"ttlSeconds":172801}', 'INVALID_COMMAND', 'field "ttlSeconds"', 11],
    ['an empty key', '{"id":12,"type":"dht_get","key":""}', 'INVALID_COMMAND', 'field "key"', 12]
  ]

  for (const [what, line, code, messagePart, id] of failures) {
    test(`rejects ${what} with ${code}`, () => {
      const decoded = decodeCommand(line)
      assert.equal(decoded.ok, false)
      if (decoded.ok) return
      assert.equal(decoded.error.code, code)
      assert.ok(decoded.error.message.includes(messagePart), `expected ${JSON.stringify(messagePart)} in: ${decoded.error.message}`)
      assert.equal(decoded.id, id)
    })
  }

  test('names the command in a bad-field message', () => {
    const decoded = decodeCommand('{"type":"subscribe","topic":""}')
    assert.equal(decoded.ok, false)
    if (!decoded.ok) assert.match(decoded.error.message, /^subscribe: field "topic": /)
  })

  test('rejects a field the command does not define, naming it and the fields the command takes', () => {
    const decoded = decodeCommand('{"type":"connect","id":7,"addrs":["/ip4/127.0.0.1/tcp/1"]}')
    assert.equal(decoded.ok, false)
    if (decoded.ok) return
    assert.equal(decoded.id, 7)
    assert.equal(decoded.error.code, 'INVALID_COMMAND')
    assert.equal(decoded.error.message, 'connect: unknown field "addrs"; connect takes type, id, port, bootstrapPeers, timeoutMs')
  })

  test('rejects unknown fields of nested objects and of commands built by extension', () => {
    const nested = decodeCommand('{"type":"subscribe","topic":"t","history":{"sinse":5}}')
    assert.equal(nested.ok, false)
    if (!nested.ok) assert.equal(nested.error.message, 'subscribe: unknown field "history.sinse"')
    const extended = decodeCommand('{"type":"history","topic":"t","timeout":5}')
    assert.equal(extended.ok, false)
    if (!extended.ok) assert.equal(extended.error.message, 'history: unknown field "timeout"; history takes since, limit, type, id, topic, timeoutMs')
    const several = decodeCommand('{"type":"peers","a":1,"b":2}')
    assert.equal(several.ok, false)
    if (!several.ok) assert.equal(several.error.message, 'peers: unknown fields "a", "b"; peers takes type, id')
  })
})
