import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

/** Bad input on stdin: every line gets its error, and the node goes on. */
describe('stdin framing and bad input', () => {
  let node: NodeProcess

  before(async () => {
    node = await NodeProcess.start('N', { env: { ...process.env, DEBUG: 'libp2p:*' } })
  })

  after(async () => {
    await node?.kill()
    assert.deepEqual(node?.badLines ?? [], [], 'stdout carried lines that are not protocol events')
  })

  test('DEBUG turns libp2p\'s debug logs on, and they go to stderr', async () => {
    // libp2p logs its start before ready; stderr is a separate pipe, read at its own pace.
    await eventually(() => /libp2p:\S+ /.test(node.stderr) ? true : undefined, 'libp2p debug lines on stderr')
  })

  /** Writes raw text, then a peers command, and returns the events in between. */
  async function afterLine (text: string | Buffer): Promise<Record<string, any>[]> {
    const start = node.events.length
    node.write(text)
    const reply = await node.request({ type: 'peers' })
    assert.equal(reply.type, 'result', 'the node answers a normal command afterwards')
    return node.events.slice(start, node.events.indexOf(reply))
  }

  test('malformed JSON is INVALID_JSON', async () => {
    const [error, ...rest] = await afterLine('{"type": "peers", \n')
    assert.equal(error?.type, 'error')
    assert.equal(error?.code, 'INVALID_JSON')
    assert.equal(error?.id, undefined)
    assert.deepEqual(rest, [])
  })

  test('an unknown command is UNKNOWN_COMMAND, with its id', async () => {
    const [error] = await afterLine('{"type":"teleport","id":"t-1"}\n')
    assert.equal(error?.code, 'UNKNOWN_COMMAND')
    assert.equal(error?.id, 't-1')
    assert.match(error?.message, /teleport/)
  })

  test('wrong field types are INVALID_COMMAND naming the field, with the id', async () => {
    const [error] = await afterLine('{"type":"subscribe","id":7,"topic":42}\n')
    assert.equal(error?.code, 'INVALID_COMMAND')
    assert.equal(error?.id, 7)
    assert.match(error?.message, /topic/)
    const [noData] = await afterLine('{"type":"publish","id":8,"topic":"t"}\n')
    assert.equal(noData?.code, 'INVALID_COMMAND')
    assert.match(noData?.message, /data/)
  })

  test('a field the command does not define is INVALID_COMMAND naming it, and the command does not run', async () => {
    // connect with "addrs" (its field is bootstrapPeers) used to dial nobody and report success.
    const [error] = await afterLine('{"type":"connect","id":"c-1","addrs":["/ip4/127.0.0.1/tcp/1"]}\n')
    assert.equal(error?.type, 'error', JSON.stringify(error))
    assert.equal(error?.code, 'INVALID_COMMAND')
    assert.equal(error?.id, 'c-1')
    assert.match(error?.message, /unknown field "addrs"; connect takes .*bootstrapPeers/)
    const [typo] = await afterLine('{"type":"send","id":"s-1","peerId":"12D3KooWJrfLYVdsqdnDzXdNZ3mzVWnxvtgBKz5nhvJnpknPQrzY","data":1,"timeout":500}\n')
    assert.equal(typo?.code, 'INVALID_COMMAND', JSON.stringify(typo))
    assert.match(typo?.message, /unknown field "timeout"/)
  })

  test('JSON that is not a command object is INVALID_COMMAND', async () => {
    for (const line of ['[]', '"peers"', '42', 'null', '{}', '{"type":5}']) {
      const [error] = await afterLine(line + '\n')
      assert.equal(error?.code, 'INVALID_COMMAND', line)
    }
  })

  test('a 5 MiB line is LINE_TOO_LONG and the next line is intact', async () => {
    const huge = '{"type":"publish","topic":"t","data":"' + 'x'.repeat(5 * 1024 * 1024) + '"}\n'
    const [error, ...rest] = await afterLine(huge)
    assert.equal(error?.code, 'LINE_TOO_LONG')
    assert.deepEqual(rest, [])
  })

  test('invalid UTF-8 is INVALID_JSON', async () => {
    const [error] = await afterLine(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]))
    assert.equal(error?.code, 'INVALID_JSON')
  })

  test('a command split across writes is put back together; \\r\\n and blank lines are fine', async () => {
    const id = 'split-1'
    const line = JSON.stringify({ type: 'peers', id })
    node.write(line.slice(0, 5))
    node.write(line.slice(5, 12))
    node.write(line.slice(12) + '\r\n\n   \n')
    const reply = await node.waitFor((e) => e.id === id, 'reply to the split command')
    assert.equal(reply.type, 'result')
  })

  test('several commands in one write get one reply each', async () => {
    node.write('{"type":"peers","id":"m1"}\n{"type":"peers","id":"m2"}\n{"type":"nope","id":"m3"}\n')
    const replies = await Promise.all(['m1', 'm2', 'm3'].map(async (id) => await node.waitFor((e) => e.id === id, `reply ${id}`)))
    assert.deepEqual(replies.map((r) => r.type), ['result', 'result', 'error'])
    for (const id of ['m1', 'm2', 'm3']) assert.equal(node.events.filter((e) => e.id === id).length, 1)
  })

  test('libp2p debug output goes to stderr, never stdout', () => {
    assert.match(node.stderr, /libp2p/)
  })
})
