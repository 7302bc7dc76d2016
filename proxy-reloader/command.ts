/** Runs a check or reload command through `sh -c`, with a timeout that kills its process group. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs `command`; resolves with its exit code and combined output (last 64 KiB). */
export function runCommand(command: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    let output = '';
    let timedOut = false;
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-65_536);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        // detached: the command and everything it started share one process group.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, output: output + e.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
