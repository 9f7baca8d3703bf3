// pnpm run demo: three agents on 127.0.0.1 find each other from nothing but
// the first one's address, then each pair exchanges a request and its reply.
import { Agent } from './agent.js'

const WAIT_MS = 20_000
const names = ['alice', 'bob', 'carol'] as const
const say = (who: string, text: string): void => { console.log(`${who.padEnd(6)} ${text}`) }
const short = (peerId: string): string => `${peerId.slice(0, 8)}…${peerId.slice(-4)}`

const agents: Agent[] = []
let failed = false
try {
  console.log('demo   three agents on 127.0.0.1; bob and carol know only alice\'s address')
  const alice = new Agent({ name: 'alice', host: '127.0.0.1', announceIntervalMs: 1_000 })
  agents.push(alice)
  for (const agent of agents) watch(agent)
  await alice.start()
  say('alice', `ready as ${short(alice.peerId)}`)
  const first = alice.node.addrs[0] as string
  for (const name of ['bob', 'carol']) {
    const agent = new Agent({ name, host: '127.0.0.1', bootstrapPeers: [first], announceIntervalMs: 1_000 })
    agents.push(agent)
    watch(agent)
  }
  await Promise.all(agents.slice(1).map(async (agent) => {
    await agent.start()
    say(agent.name, `ready as ${short(agent.peerId)}, joining through alice`)
  }))

  await Promise.all(agents.map(async (agent) => await agent.waitForAgents(names.filter((n) => n !== agent.name), WAIT_MS)))
  console.log('demo   every agent knows the other two')

  const pairs: Array<[Agent, Agent]> = [[agents[0] as Agent, agents[1] as Agent], [agents[1] as Agent, agents[2] as Agent], [agents[2] as Agent, agents[0] as Agent]]
  for (const [from, to] of pairs) {
    const started = performance.now()
    const reply = await from.ask(to.name, { op: 'ping' }, { timeoutMs: WAIT_MS }) as { op?: string, name?: string }
    const ms = (performance.now() - started).toFixed(1)
    if (reply?.op !== 'pong' || reply.name !== to.name) throw new Error(`${from.name} → ${to.name}: unexpected reply ${JSON.stringify(reply)}`)
    say(from.name, `→ ${to.name}: ping answered with pong from ${reply.name} in ${ms} ms`)
  }
  console.log('demo   3 of 3 requests answered')
} catch (err) {
  failed = true
  console.error(`demo   failed: ${(err as Error).message}`)
} finally {
  await Promise.all(agents.map(async (agent) => await agent.stop()))
  console.log('demo   all agents stopped')
}
process.exit(failed ? 1 : 0)

function watch (agent: Agent): void {
  agent.on('agent', (record) => { say(agent.name, `met ${record.name} (${short(record.peerId)}) by ${record.via}`) })
  agent.on('warning', (err) => { console.error(`${agent.name.padEnd(6)} warning: ${err.message}`) })
}
