import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type * as z from 'zod/mini'
import {
  COMMAND_TYPES,
  ErrorEventSchema,
  EventSchema,
  LogEventSchema,
  MessageEventSchema,
  PROTOCOL_VERSION,
  PeerConnectedEventSchema,
  PeerDisconnectedEventSchema,
  PeerDiscoveredEventSchema,
  ReadyEventSchema,
  ResultEventSchema,
  decodeLine,
  encodeLine
} from '../src/index.js'
import type { CommandType, Event, ResultEvent } from '../src/index.js'

const PEER_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const OTHER_PEER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const ADDR = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER_ID}`
const OTHER_ADDR = `/ip4/127.0.0.1/tcp/4002/p2p/${OTHER_PEER_ID}`

/** [name, schema, documented example] */
const examples: Array<[string, z.ZodMiniType, Event]> = [
  ['ready', ReadyEventSchema, { type: 'ready', peerId: PEER_ID, addrs: [ADDR], protocolVersion: PROTOCOL_VERSION, name: 'alice' }],
  ['direct message with data', MessageEventSchema, { type: 'message', from: OTHER_PEER_ID, data: { text: 'hello\nworld' } }],
  ['message with null data', MessageEventSchema, { type: 'message', from: OTHER_PEER_ID, data: null }],
  ['message with dataBase64', MessageEventSchema, { type: 'message', from: OTHER_PEER_ID, dataBase64: '3q2+7w==' }],
  ['gossipsub message with topic', MessageEventSchema, { type: 'message', from: OTHER_PEER_ID, topic: 'chat', data: 'hi all' }],
  ['replayed gossipsub message', MessageEventSchema, { type: 'message', from: OTHER_PEER_ID, topic: 'chat', data: 'missed it', replayed: true }],
  ['peer_discovered', PeerDiscoveredEventSchema, { type: 'peer_discovered', peerId: OTHER_PEER_ID, topics: ['chat'] }],
  ['peer_connected', PeerConnectedEventSchema, { type: 'peer_connected', peerId: OTHER_PEER_ID }],
  ['peer_disconnected', PeerDisconnectedEventSchema, { type: 'peer_disconnected', peerId: OTHER_PEER_ID }],
  ['error with id', ErrorEventSchema, { type: 'error', id: 'req-2', code: 'PEER_NOT_FOUND', message: `no address known for ${OTHER_PEER_ID}` }],
  ['error without id', ErrorEventSchema, { type: 'error', code: 'INVALID_JSON', message: 'line is not valid JSON' }],
  ['backpressure error', ErrorEventSchema, { type: 'error', code: 'BACKPRESSURE', message: 'stdout was full: 12 gossipsub messages dropped', dropped: 12 }],
  ['log', LogEventSchema, { type: 'log', level: 'info', namespace: 'p2p-node:dht', message: 'routing table refreshed', meta: { peers: 3 } }]
]

const results: Record<CommandType, ResultEvent> = {
  connect: { type: 'result', id: 1, command: 'connect', peerId: PEER_ID, addrs: [ADDR], connected: [OTHER_PEER_ID], failed: [{ addr: '/ip4/127.0.0.1/tcp/4999/p2p/' + OTHER_PEER_ID, code: 'DIAL_FAILED', message: 'connection refused' }] },
  send: { type: 'result', id: 'req-2', command: 'send', peerId: OTHER_PEER_ID },
  subscribe: { type: 'result', id: 3, command: 'subscribe', topic: 'chat', advertised: true },
  unsubscribe: { type: 'result', id: 4, command: 'unsubscribe', topic: 'chat' },
  publish: { type: 'result', id: 5, command: 'publish', topic: 'chat', recipients: 2 },
  history: { type: 'result', id: 17, command: 'history', topic: 'chat', replayed: 200, peers: 2, answered: 2 },
  discover: { type: 'result', id: 6, command: 'discover', topic: 'chat', peers: [OTHER_PEER_ID] },
  peers: { type: 'result', id: 7, command: 'peers', peers: [{ peerId: OTHER_PEER_ID, addrs: [OTHER_ADDR], topics: ['chat'], latencyMs: 0.4, score: 0 }] },
  ping: { type: 'result', id: 9, command: 'ping', peerId: OTHER_PEER_ID, latencyMs: 0.7 },
  lookup: { type: 'result', id: 10, command: 'lookup', name: 'bob', peerId: OTHER_PEER_ID, addrs: [OTHER_ADDR] },
  dht_put: { type: 'result', id: 11, command: 'dht_put', key: 'services/gpu', expiresAt: 1_795_000_000_000 },
  dht_get: { type: 'result', id: 12, command: 'dht_get', key: 'services/gpu', value: { url: 'tcp://10.0.0.5' }, publisher: OTHER_PEER_ID, expiresAt: 1_795_000_000_000 },
  dht_provide: { type: 'result', id: 13, command: 'dht_provide', key: 'model:llama' },
  dht_find_providers: { type: 'result', id: 14, command: 'dht_find_providers', key: 'model:llama', providers: [{ peerId: OTHER_PEER_ID, addrs: [OTHER_ADDR] }] },
  ban: { type: 'result', id: 15, command: 'ban', peerId: OTHER_PEER_ID },
  unban: { type: 'result', id: 16, command: 'unban', peerId: OTHER_PEER_ID },
  shutdown: { type: 'result', id: 'req-8', command: 'shutdown' }
}
for (const command of COMMAND_TYPES) examples.push([`result of ${command}`, ResultEventSchema, results[command]])

describe('event schemas', () => {
  for (const [name, schema, event] of examples) {
    test(`${name} is accepted by its schema and by EventSchema`, () => {
      assert.deepEqual(schema.parse(event), event)
      assert.deepEqual(EventSchema.parse(event), event)
    })
  }

  /** [what is wrong, event] */
  const mistakes: Array<[string, unknown]> = [
    ['message with both data and dataBase64', { type: 'message', from: OTHER_PEER_ID, data: 'hi', dataBase64: 'aGk=' }],
    ['message with neither data nor dataBase64', { type: 'message', from: OTHER_PEER_ID, topic: 'chat' }],
    ['message without from', { type: 'message', data: 'hi' }],
    ['ready without peerId', { type: 'ready', addrs: [], protocolVersion: 1 }],
    ['peer_discovered with topics as a string', { type: 'peer_discovered', peerId: OTHER_PEER_ID, topics: 'chat' }],
    ['publish result without recipients', { type: 'result', id: 5, command: 'publish', topic: 'chat', peers: [] }],
    ['publish result with negative recipients', { type: 'result', id: 5, command: 'publish', topic: 'chat', recipients: -1 }],
    ['send result with the fields of subscribe', { type: 'result', id: 2, command: 'send', topic: 'chat', advertised: true }],
    ['peers result with peer ids instead of peer infos', { type: 'result', id: 7, command: 'peers', peers: [OTHER_PEER_ID] }],
    ['result of an unknown command', { type: 'result', id: 9, command: 'dial' }],
    ['error with an unknown code', { type: 'error', id: 1, code: 'NOT_A_CODE', message: 'nope' }],
    ['error without message', { type: 'error', code: 'INTERNAL' }],
    ['log with an unknown level', { type: 'log', level: 'trace', namespace: 'p2p-node', message: 'hi' }],
    ['an unknown event type', { type: 'hello' }]
  ]

  for (const [what, event] of mistakes) {
    test(`rejects ${what}`, () => {
      assert.equal(EventSchema.safeParse(event).success, false)
    })
  }

  test('the message refinement says what is wrong', () => {
    const parsed = MessageEventSchema.safeParse({ type: 'message', from: OTHER_PEER_ID })
    assert.equal(parsed.success, false)
    assert.match(parsed.error?.issues[0]?.message ?? '', /exactly one of data and dataBase64/)
  })
})

describe('encodeLine and decodeLine', () => {
  for (const [name, , event] of examples) {
    test(`${name} encodes as one line and decodes back`, () => {
      const line = encodeLine(event)
      assert.ok(line.endsWith('\n'), 'line ends in "\\n"')
      assert.equal(line.indexOf('\n'), line.length - 1, 'exactly one "\\n"')
      assert.deepEqual(decodeLine(EventSchema, line.slice(0, -1)), { ok: true, value: event })
    })
  }

  test('decodeLine reports bad JSON and invalid events without throwing', () => {
    const badJson = decodeLine(EventSchema, '{"type":')
    assert.equal(badJson.ok, false)
    if (!badJson.ok) assert.equal(badJson.error.code, 'INVALID_JSON')

    const badEvent = decodeLine(ErrorEventSchema, '{"type":"error","code":"NOPE","message":"x"}')
    assert.equal(badEvent.ok, false)
    if (!badEvent.ok) {
      assert.equal(badEvent.error.code, 'INVALID_COMMAND')
      assert.match(badEvent.error.message, /field "code"/)
    }
  })
})
