import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { EXEC_ARGV } from '../../node-bin/scripts/v8-flags.mjs'
import { BINARY, NODE22, REPO } from './host.js'

/** A started child: ms from spawn until its `ready` line, and then until its `connect` to `peer` answered (if a peer is given). */
interface Startup { readyMs: number, connectedMs?: number }

/**
 * Spawns the node, times it until its `ready` line on stdout and, given a
 * peer address, until its answer to a `connect` to that peer sent right after
 * ready; then stops it with SIGTERM.
 */
async function timeStartup (command: string, args: string[], peer?: string): Promise<Startup> {
  const started = performance.now()
  const child = spawn(command, [...args, '--host', '127.0.0.1'], { stdio: ['pipe', 'pipe', 'ignore'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<Startup>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${command} was not ready${peer === undefined ? '' : ' and connected'} within 20 s`)) }, 20_000)
      let readyMs: number | undefined
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (readyMs === undefined) {
          if (!line.startsWith('{"type":"ready"')) return reject(new Error(`first line was not ready: ${line}`))
          readyMs = performance.now() - started
          if (peer === undefined) return resolve({ readyMs })
          child.stdin.write(`${JSON.stringify({ type: 'connect', id: 'bench', bootstrapPeers: [peer] })}\n`)
        } else if (line.includes('"id":"bench"')) {
          if (!line.startsWith('{"type":"result"')) return reject(new Error(`connect failed: ${line}`))
          resolve({ readyMs, connectedMs: performance.now() - started })
        }
      })
      child.once('exit', (code) => { reject(new Error(`${command} exited with ${code} before ready${peer === undefined ? '' : ' and connected'}`)) })
    })
  } finally {
    clearTimeout(timer)
    child.kill('SIGTERM')
    await exited
  }
}

/**
 * Startup of the executable and of Node 22 running the same bundled
 * JavaScript, `runs` times each, interleaved: until ready, and until connected
 * to a node already running (the executable, started once for this).
 */
export async function measureStartup (runs: number): Promise<{ ready: Record<string, number[]>, connected: Record<string, number[]> }> {
  const peer = spawn(BINARY, ['--host', '127.0.0.1'], { stdio: ['pipe', 'pipe', 'ignore'] })
  const peerExited = new Promise((resolve) => peer.once('exit', resolve))
  try {
    const [line] = await once(createInterface({ input: peer.stdout }), 'line', { signal: AbortSignal.timeout(20_000) }) as [string]
    const address = (JSON.parse(line) as { addrs?: string[] }).addrs?.[0]
    if (address === undefined) throw new Error(`the peer to connect to did not start: its first line was ${line}`)
    const exe = { ready: [] as number[], connected: [] as number[] }
    const bundled = { ready: [] as number[], connected: [] as number[] }
    const note = (into: typeof exe, startup: Startup): void => {
      into.ready.push(startup.readyMs)
      into.connected.push(startup.connectedMs as number)
    }
    for (let i = 0; i < runs; i++) {
      note(exe, await timeStartup(BINARY, [], address))
      // With the V8 flags built into the executable.
      note(bundled, await timeStartup(NODE22, [...EXEC_ARGV, join(REPO, 'dist', 'p2p-node.cjs')], address))
    }
    return {
      ready: { './dist/p2p-node': exe.ready, 'node dist/p2p-node.cjs': bundled.ready },
      connected: { './dist/p2p-node': exe.connected, 'node dist/p2p-node.cjs': bundled.connected }
    }
  } finally {
    peer.kill('SIGTERM')
    await peerExited
  }
}
