import { spawnSync } from 'node:child_process';
import { NetworkCutError } from './errors.ts';


interface Cut {
  /** PID of a process in the namespace holding the rules. */
  pid: number;
  peerIp: string;
}

function iptables(pid: number, action: '-I' | '-D', chain: 'INPUT' | 'OUTPUT', ip: string): { ok: boolean; err: string } {
  const flag = chain === 'INPUT' ? '-s' : '-d';
  const r = spawnSync('nsenter', ['-t', String(pid), '-n', 'iptables', '-w', action, chain, flag, ip, '-j', 'DROP'], { encoding: 'utf8' });
  return { ok: r.status === 0, err: r.stderr || r.stdout || String(r.error ?? '') };
}

/**
 * One-way-per-namespace DROP rules, the way Jepsen cuts links: a rule in the namespace of the
 * container on one side drops everything to and from the other side's address. Rules live in
 * the containers' own network namespaces, so traffic from the host (the tests' clients) still
 * reaches every member, and a container that restarts comes back with a clean namespace.
 */
export class NetworkCuts {
  private readonly cuts: Cut[] = [];

  /** Drops all traffic between the namespace of `pid` and `peerIp`, both directions. */
  drop(pid: number, peerIp: string): void {
    for (const chain of ['INPUT', 'OUTPUT'] as const) {
      const r = iptables(pid, '-I', chain, peerIp);
      if (!r.ok) throw new NetworkCutError(`cannot cut ${peerIp} in the namespace of pid ${pid}: ${r.err.trim()} (needs root, nsenter and iptables)`);
    }
    this.cuts.push({ pid, peerIp });
  }

  /** How many cuts are in force. */
  get size(): number {
    return this.cuts.length;
  }

  /**
   * Removes every rule drop() added. Only namespaces whose process is in `livePids` are entered:
   * the rules of a container that stopped vanished with its namespace, and its old PID may now
   * belong to someone else.
   */
  healAll(livePids: ReadonlySet<number>): void {
    for (const { pid, peerIp } of this.cuts.splice(0)) {
      if (!livePids.has(pid)) continue;
      iptables(pid, '-D', 'INPUT', peerIp);
      iptables(pid, '-D', 'OUTPUT', peerIp);
    }
  }
}
