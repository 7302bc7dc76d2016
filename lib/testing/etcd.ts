import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { GiveUp, httpUp, startProcess, waitFor, type TestProcess } from './process.ts';

/** A real etcd 3.4 (v2 API enabled) on free loopback ports, with its own temp data dir. */
export interface RealEtcd {
  readonly url: string;
  readonly process: TestProcess;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function startRealEtcd(opts: { name?: string; extraArgs?: string[] } = {}): Promise<RealEtcd> {
  const name = opts.name ?? 'default';
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-etcd-'));
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startProcess('etcd', [
    '--enable-v2',
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${name}=${peer}`,
    '--log-level', 'error',
    ...(opts.extraArgs ?? []),
  ]);
  const stop = async () => {
    await proc.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`etcd on ${url}`, async () => {
      if (proc.child.exitCode !== null) throw new GiveUp(`etcd exited: ${proc.output().slice(-2000)}`);
      return httpUp(`${url}/v2/keys/`);
    }, 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, process: proc, dataDir, stop };
}
