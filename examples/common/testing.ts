/** Test helpers for the examples: run one as its README says, and read what it prints. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';

const root = resolve(import.meta.dirname, '../..');

/** Starts `npx tsx examples/<path> <args>` the way its README does (node --import tsx, no npx lookup). */
export function startExampleProcess(path: string, args: string[], env: NodeJS.ProcessEnv = {}): TestProcess {
  return startProcess(process.execPath, ['--import', 'tsx', resolve(root, 'examples', path), ...args], { cwd: root, env: { ...process.env, BERTH_LOG_LEVEL: 'warn', ...env } });
}

/** Waits until the process's output (from character `from` on) matches `re`; returns the match. */
export async function waitForOutput(p: TestProcess, re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpMatchArray> {
  let m: RegExpMatchArray | null = null;
  await waitFor(`output matching ${re}`, () => {
    if (p.child.exitCode !== null && !re.test(p.output().slice(from))) throw new Error(`exited ${p.child.exitCode}: ${p.output().slice(-1500)}`);
    return (m = re.exec(p.output().slice(from))) !== null;
  }, timeoutMs, 20);
  return m!;
}

/** `bin/berth ctl <args>`, as a README tells the reader to type it. */
export function ctl(endpoint: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/berth'), 'ctl', '--endpoints', endpoint, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`berth ctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
