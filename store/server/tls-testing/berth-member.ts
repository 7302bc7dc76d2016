/** Starts `berth store` members with arbitrary flags (TLS tests need flags startCluster does not pass). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../lib/testing/ports.ts';
import { startProcess, type TestProcess } from '../../../lib/testing/process.ts';

const berthBin = resolve(import.meta.dirname, '../../../bin/berth');

export interface MemberSpec {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

/** Names and free loopback ports for `n` members, with the given URL schemes. */
export async function memberSpecs(prefix: string, n: number, clientScheme: 'http' | 'https', peerScheme: 'http' | 'https'): Promise<MemberSpec[]> {
  const out: MemberSpec[] = [];
  for (let i = 0; i < n; i++) out.push({ name: `${prefix}${i}`, clientUrl: `${clientScheme}://127.0.0.1:${await freePort()}`, peerUrl: `${peerScheme}://127.0.0.1:${await freePort()}` });
  return out;
}

export interface RunningMember {
  spec: MemberSpec;
  process: TestProcess;
  stop(): Promise<void>;
}

/** Starts one member of the cluster `all` with `extra` flags; stop() kills it by PID and removes its data. */
export async function startMember(spec: MemberSpec, all: MemberSpec[], extra: string[]): Promise<RunningMember> {
  const dataDir = await mkdtemp(join(tmpdir(), `berth-sec-${spec.name}-`));
  const args = [
    berthBin, 'store', '--log-level', 'warn',
    '--name', spec.name,
    '--data-dir', dataDir,
    '--listen-client-urls', spec.clientUrl,
    '--advertise-client-urls', spec.clientUrl,
    '--listen-peer-urls', spec.peerUrl,
    '--initial-advertise-peer-urls', spec.peerUrl,
    '--initial-cluster', all.map((m) => `${m.name}=${m.peerUrl}`).join(','),
    '--heartbeat-interval', '100',
    '--election-timeout', '1000',
    ...extra,
  ];
  const proc = startProcess(process.execPath, args);
  return {
    spec,
    process: proc,
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
