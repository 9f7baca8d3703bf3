import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { NODE22, REPO } from '../../src/host.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures')
const stackPatches = join(import.meta.dirname, '..', '..', 'src', 'hosts', 'stack-patches.mjs')

/**
 * Runs test/fixtures/NAME.ts in a process of its own on the hosts' Node 22,
 * with the executable's dependency patches (src/hosts/stack-patches.mjs) or
 * with the dependencies as published, and returns the JSON its last line
 * printed.
 */
export async function runPatchFixture<T> (name: string, patched: boolean): Promise<T> {
  const patches = patched ? ['--import', stackPatches] : []
  const { stdout } = await promisify(execFile)(NODE22, ['--import', 'tsx', ...patches, join(fixtures, `${name}.ts`)], { cwd: REPO, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as T
}
