import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BINARY, NodeProcess, eventually } from './helpers/node-process.js'

const registered = (name: string) => (e: Record<string, any>) => e.type === 'log' && e.message === 'registered the name in the DHT' && e.meta?.name === name

/**
 * A bootstrap node and nodes that know only its address: names, DHT records,
 * provider records, ping, persistent identity and circuit relay.
 */
describe('DHT, names, identity and relay', () => {
  let boot: NodeProcess
  let alice: NodeProcess
  let bob: NodeProcess
  const dir = mkdtempSync(join(tmpdir(), 'p2p-node-dht-'))
  const others: NodeProcess[] = []
  const start = async (label: string, args: string[], env?: NodeJS.ProcessEnv): Promise<NodeProcess> => {
    const node = await NodeProcess.start(label, { args: ['--host', '127.0.0.1', '--log-level', 'info', '--bootstrap', boot.addr, ...args], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) })
    others.push(node)
    return node
  }

  before(async () => {
    boot = await NodeProcess.start('boot', { args: ['--host', '127.0.0.1', '--bootstrap-node'] })
    ;[alice, bob] = await Promise.all([start('alice', ['--name', 'alice']), start('bob', [])])
    await alice.waitFor(registered('alice'), 'alice registered')
  })

  after(async () => {
    await Promise.all([boot, ...others].map(async (node) => await node?.kill()))
    for (const node of [boot, ...others]) assert.deepEqual(node?.badLines ?? [], [], `${node?.label} wrote non-protocol stdout`)
    rmSync(dir, { recursive: true, force: true })
  })

  test('lookup resolves a name to its peer id and addresses', async () => {
    const found = await bob.ok({ type: 'lookup', name: 'alice' })
    assert.equal(found.peerId, alice.peerId)
    assert.ok(found.addrs.some((addr: string) => addr.includes('/tcp/')), JSON.stringify(found))
    const missing = await bob.request({ type: 'lookup', name: 'nobody' })
    assert.equal(missing.code, 'NOT_FOUND')
  })

  test('send and ping accept a name in place of a peer id', async () => {
    const sent = await bob.ok({ type: 'send', peerId: 'alice', data: 'by name' })
    assert.equal(sent.peerId, alice.peerId)
    await alice.waitFor((e) => e.type === 'message' && e.data === 'by name' && e.from === bob.peerId, 'message sent by name')
    const pong = await bob.ok({ type: 'ping', peerId: 'alice' })
    assert.equal(pong.peerId, alice.peerId)
    assert.equal(typeof pong.latencyMs, 'number')
  })

  test('dht_put on one node is readable with dht_get on another, signed by its publisher', async () => {
    const put = await alice.ok({ type: 'dht_put', key: 'services/echo', value: { url: 'p2p://alice/echo', v: 1 } })
    assert.ok(put.expiresAt > Date.now())
    const got = await bob.ok({ type: 'dht_get', key: 'services/echo' })
    assert.deepEqual(got.value, { url: 'p2p://alice/echo', v: 1 })
    assert.equal(got.publisher, alice.peerId)
    assert.equal(got.expiresAt, put.expiresAt)
    // The newest record wins.
    await bob.ok({ type: 'dht_put', key: 'services/echo', value: { url: 'p2p://bob/echo', v: 2 } })
    const newer = await alice.ok({ type: 'dht_get', key: 'services/echo' })
    assert.equal(newer.publisher, bob.peerId)
    assert.equal(newer.value.v, 2)
  })

  test('an expired record is gone, on the writer and on the reader', async () => {
    const put = await alice.ok({ type: 'dht_put', key: 'short-lived', value: 'soon gone', ttlSeconds: 1 })
    assert.equal((await bob.ok({ type: 'dht_get', key: 'short-lived' })).value, 'soon gone')
    // Expiry is a point in time: wait until it has passed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, put.expiresAt - Date.now()) + 50))
    for (const node of [alice, bob]) {
      const gone = await node.request({ type: 'dht_get', key: 'short-lived' })
      assert.equal(gone.code, 'NOT_FOUND', `${node.label}: ${JSON.stringify(gone)}`)
    }
  })

  test('dht_provide and dht_find_providers', async () => {
    await alice.ok({ type: 'dht_provide', key: 'model:tiny' })
    const found = await bob.ok({ type: 'dht_find_providers', key: 'model:tiny' })
    assert.deepEqual(found.providers.map((p: any) => p.peerId), [alice.peerId])
    assert.ok(found.providers[0].addrs.length > 0)
    assert.deepEqual((await bob.ok({ type: 'dht_find_providers', key: 'model:none', timeoutMs: 3000 })).providers, [])
  })

  test('a second node claiming a taken name does not get it: the first claim holds', async () => {
    const impostor = await start('impostor', ['--name', 'alice'])
    const warning = await impostor.waitFor((e) => e.type === 'log' && e.level === 'warn' && /"alice" is held by another node/.test(e.message), 'name-taken warning')
    assert.equal(warning.meta.holder, alice.peerId)
    assert.equal((await bob.ok({ type: 'lookup', name: 'alice' })).peerId, alice.peerId)
  })

  test('a node restarted with the same key file keeps its peer id and name, and is reachable by name again', async () => {
    const keyFile = join(dir, 'dora.key')
    const first = await start('dora-1', ['--name', 'dora', '--key-file', keyFile])
    await first.waitFor(registered('dora'), 'dora registered')
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    await bob.ok({ type: 'send', peerId: 'dora', data: 'before restart' })
    first.proc.stdin.end()
    assert.equal((await first.waitExit()).code, 0)

    const second = await start('dora-2', ['--name', 'dora', '--key-file', keyFile])
    assert.equal(second.peerId, first.peerId)
    await second.waitFor(registered('dora'), 'dora registered again')
    await bob.ok({ type: 'send', peerId: 'dora', data: 'after restart' })
    await second.waitFor((e) => e.type === 'message' && e.data === 'after restart', 'message after restart')
  })

  // carol is a DHT client, connected to erin-1 by address: no DHT query of
  // erin's dials her, so after erin restarts (same key, another port) carol
  // holds only the old address, until send asks the DHT.
  test('send reaches a peer that came back on another port: the old address fails, the DHT gives the new one', async () => {
    const keyFile = join(dir, 'erin.key')
    const carol = await start('carol', ['--dht-mode', 'client'])
    const first = await start('erin-1', ['--key-file', keyFile])
    await carol.ok({ type: 'connect', bootstrapPeers: [first.addr] })
    await carol.ok({ type: 'send', peerId: first.peerId, data: 'before restart' })
    const oldPort = first.addr.split('/')[4]
    first.proc.stdin.end()
    assert.equal((await first.waitExit()).code, 0)
    await carol.waitFor((e) => e.type === 'peer_disconnected' && e.peerId === first.peerId, 'carol saw erin-1 go')

    const second = await start('erin-2', ['--key-file', keyFile])
    assert.equal(second.peerId, first.peerId)
    assert.notEqual(second.addr.split('/')[4], oldPort, 'erin came back on the same port')
    // erin-2 is in the DHT once the bootstrap node has identified it, a moment
    // after they connect: a node that never met erin can then find it there.
    await second.waitFor((e) => e.type === 'peer_connected' && e.peerId === boot.peerId, 'erin-2 connected to the bootstrap node')
    const dave = await start('dave', ['--dht-mode', 'client'])
    await eventually(async () => (await dave.request({ type: 'ping', peerId: second.peerId, timeoutMs: 2_000 })).type === 'result' ? true : undefined, 'a node that never met erin finds erin-2 through the DHT')
    assert.ok(!(await carol.ok({ type: 'peers' })).peers.some((p: any) => p.peerId === second.peerId), 'carol is already connected to erin-2')
    await carol.ok({ type: 'send', peerId: second.peerId, data: 'after restart' })
    await second.waitFor((e) => e.type === 'message' && e.data === 'after restart' && e.from === carol.peerId, 'the message after the restart')
  })

  // A send or ping to a peer that is not up fails, and leaves in libp2p's
  // peer store an entry for it without addresses. kad-dht answers lookups from
  // any such entry, so libp2p's own lookup never asked the network again:
  // every later send or ping failed, even once the peer was in the DHT.
  for (const command of ['send', 'ping'] as const) {
    test(`${command} reaches a peer that an earlier ${command} could not find, once it has joined`, async () => {
      const keyFile = join(dir, `${command}-target.key`)
      const gone = await start(`${command}-target-0`, ['--key-file', keyFile])
      gone.proc.stdin.end()
      assert.equal((await gone.waitExit()).code, 0)
      const asker = await start(`${command}-asker`, ['--dht-mode', 'client'])
      const to = (peerId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: command, peerId, ...(command === 'send' ? { data: 'now' } : {}), ...extra })
      const early = await asker.request(to(gone.peerId, { timeoutMs: 1_000 }))
      assert.equal(early.type, 'error', `the early ${command} to a peer that is down succeeded`)

      const target = await start(`${command}-target`, ['--key-file', keyFile])
      assert.equal(target.peerId, gone.peerId)
      await target.waitFor((e) => e.type === 'peer_connected' && e.peerId === boot.peerId, 'the target connected to the bootstrap node')
      await asker.ok(to(target.peerId))
      if (command === 'send') await target.waitFor((e) => e.type === 'message' && e.data === 'now' && e.from === asker.peerId, 'the message once the target joined')
    })
  }

  test('P2P_PRIVATE_KEY: a hex secp256k1 key always gives the same peer id and is never printed', async () => {
    const hex = '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'
    const one = await start('eth-1', [], { P2P_PRIVATE_KEY: `0x${hex}` })
    const two = await start('eth-2', [], { P2P_PRIVATE_KEY: hex })
    assert.equal(one.peerId, two.peerId)
    assert.match(one.peerId, /^16Uiu2/)
    for (const node of [one, two]) {
      assert.ok(!JSON.stringify(node.events).includes(hex))
      assert.ok(!node.stderr.includes(hex))
    }
    const bad = spawnSync(BINARY, ['--host', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, P2P_PRIVATE_KEY: 'zz-secret-zz' } })
    assert.equal(bad.status, 2)
    assert.equal(bad.stdout, '')
    assert.match(bad.stderr, /P2P_PRIVATE_KEY/)
    assert.ok(!bad.stderr.includes('zz-secret-zz'))
  })

  test('a node with no dialable address is reached through the bootstrap node\'s relay', async () => {
    // DCUtR off, so that the relayed connection is not upgraded to a direct one under the test.
    const hidden = await start('hidden', ['--listen', '/p2p-circuit', '--no-dcutr'])
    assert.deepEqual(hidden.ready.addrs, [])
    const relayed = await eventually(async () => {
      const { addrs } = await hidden.ok({ type: 'connect' })
      return addrs.find((addr: string) => addr.includes('/p2p-circuit/')) as string | undefined
    }, 'hidden node gets a relay address')
    assert.ok(relayed.startsWith(boot.addr), relayed)
    const carol = await start('carol', ['--no-dcutr'])
    const before = await carol.ok({ type: 'peers' })
    assert.ok(!before.peers.some((p: any) => p.peerId === hidden.peerId), 'carol starts without a connection to the hidden node')

    await carol.ok({ type: 'send', peerId: hidden.peerId, data: 'through the relay' })
    await hidden.waitFor((e) => e.type === 'message' && e.data === 'through the relay' && e.from === carol.peerId, 'relayed message')
    const { peers } = await carol.ok({ type: 'peers' })
    const toHidden = peers.find((p: any) => p.peerId === hidden.peerId)
    assert.ok(toHidden.addrs.some((addr: string) => addr.startsWith(`${boot.addr}/p2p-circuit/`)), JSON.stringify(toHidden))
  })
})
