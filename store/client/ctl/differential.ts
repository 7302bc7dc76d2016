/**
 * Test helpers for running `berth ctl` and `ETCDCTL_API=2 etcdctl` side by side: one-shot runs,
 * long-running watches stopped when their output says so, and output normalized so only what a
 * user would call a difference remains (indexes, member IDs, ports and times vary per run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const berth = resolve(import.meta.dirname, '../../../bin/berth');

/** Which command line runs: ours or etcd's. */
export type Tool = 'berth' | 'etcdctl';

/** Exit code and normalized output of one run. */
export interface ToolOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Replaces what legitimately differs between two runs with placeholders. */
export function normalize(s: string): string {
  return s
    .replace(/\[\d+\]/g, '[N]')
    .replace(/(Index|TTL): \d+/g, '$1: N')
    .replace(/"(createdIndex|modifiedIndex|ttl)":\d+/g, '"$1":N')
    .replace(/"expiration":"[^"]+"/g, '"expiration":"T"')
    .replace(/I=\d+/g, 'I=N')
    .replace(/\b[0-9a-f]{14,16}\b/g, '<id>')
    .replace(/\bmember [0-9a-f]+\b/g, 'member <id>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:P')
    .replace(/\d{20}/g, '<inorder>');
}

function command(tool: Tool): [string, string[]] {
  return tool === 'berth' ? [process.execPath, [berth, 'ctl']] : ['etcdctl', []];
}

const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, ETCDCTL_API: '2', ...extra });

/** Runs a command that ends by itself. */
export function runTool(tool: Tool, args: string[], extraEnv?: NodeJS.ProcessEnv): ToolOutput {
  const [cmd, pre] = command(tool);
  const r = spawnSync(cmd, [...pre, ...args], { env: env(extraEnv), encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: normalize(r.stdout), stderr: normalize(r.stderr) };
}

/** A running command (a watch) whose output can be awaited and which is killed by PID. */
export interface RunningTool {
  output(): ToolOutput;
  /** Resolves when `until(stdout)` holds; rejects after `timeoutMs`. */
  waitFor(until: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  kill(): Promise<ToolOutput>;
}

/** Starts a long-running command (a watch); kill it with `kill()`. */
export function startTool(tool: Tool, args: string[]): RunningTool {
  const [cmd, pre] = command(tool);
  const child = spawn(cmd, [...pre, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const output = () => ({ code: child.exitCode, stdout: normalize(stdout), stderr: normalize(stderr) });
  return {
    output,
    async waitFor(until, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!until(stdout)) {
        if (Date.now() > deadline) throw new Error(`${tool} ${args.join(' ')}: timed out; stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`);
        if (child.exitCode !== null) throw new Error(`${tool} ${args.join(' ')} exited ${child.exitCode}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      return { ...output(), code: null };
    },
  };
}
