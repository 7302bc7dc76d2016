import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Rand, seedFromEnv } from '../../../lib/rand.ts';
import { startProcess, waitFor, type TestProcess } from '../../../lib/testing/process.ts';
import { RelayedCluster } from '../../cluster-tests/relayed-cluster.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { Election } from './election.ts';
import { FencedResource } from './testing/fenced-resource.ts';

const TTL_S = 2;
const ROUNDS = Number(process.env.ELECTION_ROUNDS ?? 2);
const workerScript = resolve(import.meta.dirname, 'testing/election-worker.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Fault = 'SIGKILL' | 'SIGSTOP' | 'partition';

test(`Election on a 3-node berth cluster: ${ROUNDS} rounds of SIGKILL, SIGSTOP and store partition of the leader`, { timeout: 240_000 }, async (t) => {
  const seed = seedFromEnv();
  console.log(`election.cluster seed=${seed} (SEED=${seed} reproduces the fault order and timing)`);
  const rand = new Rand(seed);
  const cluster = await RelayedCluster.start(3);
  const resource = new FencedResource();
  await resource.start();
  const workers: TestProcess[] = [];
  const observerKv = new HttpKvBackend({ endpoints: cluster.members.map((m) => m.clientUrl), timeoutMs: 1000 });
  const stopObserving = new AbortController();
  t.after(async () => {
    stopObserving.abort();
    for (const w of workers) if (w.child.exitCode === null) process.kill(w.pid, 'SIGCONT');
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await observerKv.close();
    await resource.stop();
    await cluster.stop();
  });
  // The store's view of the terms, for the independent staleness check below.
  const terms: { token: number; value: string; seenAtMs: number }[] = [];
  const observing = (async () => {
    for await (const l of new Election(observerKv, '/election/workers').observe({ signal: stopObserving.signal })) if (l) terms.push({ ...l, seenAtMs: Date.now() });
  })().catch(() => undefined);
  const spawn = (i: number) => {
    // Each worker talks only to the store member on "its host", so partitioning that member
    // cuts the worker off from the majority too (with failover it would keep its office).
    const endpoints = cluster.members[i]!.clientUrl;
    workers[i] = startProcess(process.execPath, ['--import', 'tsx', workerScript, endpoints, '/election/workers', `w${i}`, String(TTL_S), resource.url]);
  };
  for (let i = 0; i < 3; i++) spawn(i);
  const current = () => resource.accepted.at(-1);
  await waitFor('a first leader to act', () => current() !== undefined, 30_000);

  const takeovers: { fault: Fault; ms: number }[] = [];
  const faults: Fault[] = [];
  for (let r = 0; r < ROUNDS; r++) faults.push(...rand.shuffle<Fault>(['SIGKILL', 'SIGSTOP', 'partition']));
  for (const fault of faults) {
    await sleep(rand.range(300, 1500));
    const before = current()!;
    const i = Number(before.who.slice(1));
    const home = cluster.members[i]!;
    const faultAt = Date.now();
    if (fault === 'SIGKILL') await workers[i]!.stop('SIGKILL');
    else if (fault === 'SIGSTOP') process.kill(workers[i]!.pid, 'SIGSTOP');
    else cluster.partition([home], cluster.members.filter((m) => m !== home));
    await waitFor(`a new term after ${fault} of ${before.who}`, () => current()!.token > before.token, 20_000, 10);
    const ms = current()!.atMs - faultAt;
    takeovers.push({ fault, ms });
    const term = terms.find((tm) => tm.token === current()!.token);
    console.log(`election.cluster: ${fault} of ${before.who} (token ${before.token}) -> ${current()!.who} acts with token ${current()!.token} after ${ms} ms (observer saw the term after ${term ? term.seenAtMs - faultAt : '?'} ms)`);
    // Keep the fault a while longer so the old leader's stale attempts (if any) would land now.
    await sleep(500);
    if (fault === 'SIGKILL') spawn(i);
    else if (fault === 'SIGSTOP') process.kill(workers[i]!.pid, 'SIGCONT');
    else cluster.heal();
    // A leader that survived its fault was told it lost the office.
    if (fault !== 'SIGKILL') await waitFor(`${before.who} to report losing token ${before.token}`, () => workers[i]!.output().includes(`lost ${before.token}\n`), 5000, 20);
    await sleep(1000);
  }
  stopObserving.abort();
  await observing;

  const accepted = resource.accepted;
  const rejected = resource.attempts.filter((a) => !a.accepted);
  console.log(`election.cluster: ${resource.attempts.length} attempts, ${accepted.length} accepted, ${rejected.length} refused (${rejected.map((a) => `${a.who}:${a.why}`).join(' ') || 'none'}); takeovers ms: ${takeovers.map((x) => `${x.fault}=${x.ms}`).join(' ')}`);
  for (const x of takeovers) assert.ok(x.ms <= TTL_S * 1000 + 1000, `${x.fault}: new leader acted after ${x.ms} ms, more than TTL + 1 s`);
  // Each accepted token is a real term, held by one worker only, and terms never go backwards.
  const holder = new Map<number, string>();
  for (const a of accepted) {
    assert.equal(holder.get(a.token) ?? a.who, a.who, `token ${a.token} used by two workers`);
    holder.set(a.token, a.who);
  }
  for (let k = 1; k < accepted.length; k++) assert.ok(accepted[k]!.token >= accepted[k - 1]!.token, 'an older term acted after a newer one');
  // Independent check: no accepted action carries a token older than a term the store had already started.
  for (const a of accepted) {
    const newer = terms.find((tm) => tm.token > a.token && tm.seenAtMs < a.atMs);
    assert.equal(newer, undefined, `${a.who} acted with token ${a.token} after term ${newer?.token} had begun`);
  }
  assert.ok(terms.length >= faults.length + 1, `observed ${terms.length} terms for ${faults.length} faults`);
});
