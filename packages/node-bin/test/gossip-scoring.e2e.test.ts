// A raw libp2p peer in this process speaks gossipsub by hand to the compiled
// node and breaks a rule that peer scoring punishes: it advertises messages
// (IHAVE) and never delivers them when asked (IWANT).
import '../src/polyfill.js'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { RPC } from '@libp2p/gossipsub/message'
import type { Libp2p } from '@libp2p/interface'
import { NodeProcess, eventually } from './helpers/node-process.js'

const MESHSUB = ['/meshsub/1.2.0', '/meshsub/1.1.0']
const TOPIC = 'scored'

let victim: NodeProcess
let rogue: Libp2p
/** Every RPC the node sent the rogue. */
const received: RPC[] = []

const rpc = (fields: Partial<RPC> & { control?: Partial<RPC.ControlMessage> }): Uint8Array => RPC.encode({
  subscriptions: fields.subscriptions ?? [],
  messages: [],
  control: { ihave: [], iwant: [], graft: [], prune: [], idontwant: [], ...fields.control }
})

before(async () => {
  victim = await NodeProcess.start('victim', { args: ['--host', '127.0.0.1'] })
  await victim.ok({ type: 'subscribe', topic: TOPIC })
  rogue = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
  // The node opens its own gossipsub stream to the rogue: read what it says.
  await rogue.handle(MESHSUB, async (stream) => {
    const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
    try {
      while (true) received.push(RPC.decode((await lp.read()).subarray()))
    } catch {}
  })
})

after(async () => {
  await rogue?.stop()
  await victim?.kill()
  assert.deepEqual(victim?.badLines ?? [], [])
})

test('a peer that breaks its gossip promises gets a negative score and is pruned from the mesh', async () => {
  const stream = await rogue.dialProtocol(multiaddr(victim.addr), MESHSUB)
  const lp = lpStream(stream)
  await lp.write(rpc({ subscriptions: [{ subscribe: true, topic: TOPIC }], control: { graft: [{ topicID: TOPIC }] } }))
  const rogueInfo = async (): Promise<Record<string, any> | undefined> => (await victim.ok({ type: 'peers' })).peers.find((p: any) => p.peerId === rogue.peerId.toString())
  await eventually(async () => (await rogueInfo())?.topics.includes(TOPIC) === true ? true : undefined, 'the node knows the rogue is on the topic')
  assert.equal((await rogueInfo())?.score, 0, 'a peer that did nothing scores 0')

  // Advertise messages that do not exist; the node asks for them (IWANT); they never come.
  await lp.write(rpc({ control: { ihave: [{ topicID: TOPIC, messageIDs: Array.from({ length: 5 }, () => randomBytes(20)) }] } }))
  await eventually(() => received.some((r) => (r.control?.iwant.length ?? 0) > 0) ? true : undefined, 'the node asks for the advertised messages (IWANT)')

  // gossipsub waits 3 s for a promised message, then penalises the peer; the
  // next heartbeat (every second) prunes a peer whose score is below 0.
  const pruned = await eventually(() => received.find((r) => r.control?.prune.some((p) => p.topicID === TOPIC)), 'the node prunes the rogue from its mesh (PRUNE)', 15_000)
  assert.ok(pruned)
  const score = (await rogueInfo())?.score
  assert.ok(typeof score === 'number' && score < 0, `the rogue's score is below 0 (got ${String(score)})`)
})
