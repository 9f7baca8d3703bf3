#!/usr/bin/env node
// pnpm run agent -- --name alice [--bootstrap <multiaddr>]
import { Command, InvalidArgumentError } from 'commander'
import { Agent } from './agent.js'
import { DEFAULT_ANNOUNCE_INTERVAL_MS } from './constants.js'

const short = (peerId: string): string => `${peerId.slice(0, 8)}…${peerId.slice(-4)}`
const positiveInt = (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

const program = new Command('agent')
  .description('An example p2p-node agent: announces itself, keeps a table of other agents, answers ping/echo/capabilities requests.')
  .requiredOption('-n, --name <name>', 'the agent\'s name')
  .option('--bootstrap <multiaddr...>', 'address of an agent to join through')
  .option('--host <ipv4>', 'address to listen on (127.0.0.1 keeps it on this machine)')
  .option('-p, --port <n>', 'TCP port, 0 for any', positiveInt)
  .option('--interval <ms>', `announce and discover every <ms> (default ${DEFAULT_ANNOUNCE_INTERVAL_MS})`, positiveInt)

// `pnpm run agent -- --name alice` passes the `--` through; commander would stop reading options there.
const argv = process.argv.slice(2)
program.parse(argv[0] === '--' ? argv.slice(1) : argv, { from: 'user' })

const options = program.opts<{ name: string, bootstrap?: string[], host?: string, port?: number, interval?: number }>()
const agent = new Agent({
  name: options.name,
  bootstrapPeers: options.bootstrap ?? [],
  ...(options.host === undefined ? {} : { host: options.host }),
  ...(options.port === undefined ? {} : { port: options.port }),
  ...(options.interval === undefined ? {} : { announceIntervalMs: options.interval })
})
const say = (text: string): void => { console.log(`${agent.name}: ${text}`) }

agent.on('agent', (record) => { say(`met ${record.name} (${short(record.peerId)}) by ${record.via}; can ${record.capabilities.join(', ')}`) })
agent.on('request', ({ from, request }) => {
  const name = agent.agents.find((a) => a.peerId === from)?.name ?? short(from)
  say(`${name} asks ${JSON.stringify(request)}`)
})
agent.on('warning', (err) => { console.error(`${agent.name}: warning: ${err.message}`) })

let stopping = false
const shutdown = (): void => {
  if (stopping) return
  stopping = true
  say('stopping')
  agent.stop().then(() => { process.exit(0) }, (err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)

try {
  await agent.start()
} catch (err) {
  console.error(`${options.name}: could not start: ${(err as Error).message}`)
  process.exit(1)
}
say(`ready as ${short(agent.peerId)}`)
say(`others join with: pnpm run agent -- --name <name> --bootstrap ${agent.node.addrs[0] ?? ''}`)
