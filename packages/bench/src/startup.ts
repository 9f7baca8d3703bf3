import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { BINARY, NODE22, REPO } from './host.js'

/** ms from spawn until the `ready` line is on stdout; the node is then stopped with SIGTERM. */
async function timeToReady (command: string, args: string[]): Promise<number> {
  const started = performance.now()
  const child = spawn(command, [...args, '--host', '127.0.0.1'], { stdio: ['pipe', 'pipe', 'ignore'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${command} was not ready within 20 s`)) }, 20_000)
      let text = ''
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        if (!text.includes('\n')) return
        clearTimeout(timer)
        if (text.startsWith('{"type":"ready"')) resolve(performance.now() - started)
        else reject(new Error(`first line was not ready: ${text.split('\n')[0]}`))
      })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${command} exited with ${code} before ready`)) })
    })
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

/** Startup of the executable and of Node 22 running the same bundled JavaScript, `runs` times each, interleaved. */
export async function measureStartup (runs: number): Promise<Record<string, number[]>> {
  const exe: number[] = []
  const bundled: number[] = []
  for (let i = 0; i < runs; i++) {
    exe.push(await timeToReady(BINARY, []))
    // With the V8 flags built into the executable (execArgv in packages/node-bin/scripts/build-exe.mjs).
    bundled.push(await timeToReady(NODE22, ['--single-threaded', '--max-semi-space-size=4', '--expose-gc', join(REPO, 'dist', 'p2p-node.cjs')]))
  }
  return { './dist/p2p-node': exe, 'node dist/p2p-node.cjs': bundled }
}
