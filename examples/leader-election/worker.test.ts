import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { startExampleProcess, waitForOutput } from '../common/testing.ts';

const TTL_S = 2;

test('leader-election example: 3 workers, the leader is SIGKILLed, another takes over within TTL + 1 s, never two at once', { timeout: 90_000 }, async (t) => {
  const store = await startCluster('berth', 3);
  t.after(() => store.stop());
  const dir = await mkdtemp(join(tmpdir(), 'berth-rec-election-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const journal = join(dir, 'journal.log');
  const run = startExampleProcess('leader-election/run.ts', ['--endpoints', store.clientUrls.join(','), '--journal', journal, '--ttl', String(TTL_S), '--every-ms', '100']);
  t.after(() => run.stop());
  const pids = new Map<string, number>();
  for (const w of ['w1', 'w2', 'w3']) pids.set(w, Number((await waitForOutput(run, new RegExp(`${w}: campaigning \\(pid (\\d+)\\)`)))[1]));
  const takeovers: number[] = [];
  // Campaigning is printed before anyone wins, so wait for the first leader before picking it.
  await waitForOutput(run, /(w\d): leader with token (\d+)/);
  for (let round = 0; round < 2; round++) {
    const leaders = [...run.output().matchAll(/(w\d): leader with token (\d+)/g)];
    const [, leader, token] = leaders.at(-1)!;
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    const seen = run.output().length;
    process.kill(pids.get(leader!)!, 'SIGKILL');
    const next = await waitForOutput(run, /(w\d): leader with token (\d+)/, 10_000, seen);
    takeovers.push(Date.now() - killedAt);
    assert.notEqual(next[1], leader);
    assert.ok(Number(next[2]) > Number(token));
  }
  console.log(`leader-election example: takeover after SIGKILL of the leader in ${takeovers.join(', ')} ms (TTL ${TTL_S} s)`);
  for (const ms of takeovers) assert.ok(ms <= TTL_S * 1000 + 1000, `takeover took ${ms} ms`);
  await new Promise((r) => setTimeout(r, 300));
  const lines = (await readFile(journal, 'utf8')).trim().split('\n').map((l) => l.split(' '));
  const owner = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const [token, name] = lines[i]!;
    assert.equal(owner.get(token!) ?? name, name, `token ${token} used by two workers`);
    owner.set(token!, name!);
    if (i > 0) assert.ok(Number(token) >= Number(lines[i - 1]![0]), `line ${i + 1}: token ${token} after ${lines[i - 1]![0]}: two leaders at once`);
  }
  assert.equal(owner.size, 3, 'three terms in the journal');
  assert.doesNotMatch(run.output(), /journal refused/);
});
