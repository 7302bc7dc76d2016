import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../lib/testing/store-cluster.ts';

/**
 * Writes sent to followers while the leader is SIGKILLed. A write a follower had forwarded to
 * the dying leader is lost with it; the follower must send it again under the new leader
 * (store/node/proposal-epochs.ts) instead of letting the client wait out the request timeout.
 */
test('writes in flight through followers when the leader is SIGKILLed are answered, each applied once', { timeout: 90_000 }, async (t) => {
  const cluster = await startCluster('berth', 3, { heartbeatMs: 50, electionMs: 500 });
  t.after(() => cluster.stop());
  for (let round = 0; round < 3; round++) {
    const leaderUrl = await cluster.leaderUrl();
    const leader = cluster.members.find((m) => m.clientUrl === leaderUrl)!;
    const followers = cluster.members.filter((m) => m !== leader);
    const dir = `/ldw/r${round}`;
    let stop = false;
    const slowest: number[] = [];
    // Two writers per follower, each appending to its own in-order queue without pause.
    const writers = followers.flatMap((f, i) =>
      [0, 1].map(async (w) => {
        let n = 0;
        let worst = 0;
        while (!stop) {
          const t0 = performance.now();
          const res = await fetch(`${f.clientUrl}/v2/keys${dir}/w${i}${w}`, { method: 'POST', body: new URLSearchParams({ value: String(n) }), signal: AbortSignal.timeout(20_000) });
          const body = await res.text();
          assert.equal(res.status, 201, `write ${n} of writer ${i}${w} via ${f.name}: ${res.status} ${body}`);
          worst = Math.max(worst, performance.now() - t0);
          n++;
        }
        slowest.push(worst);
        return n;
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await cluster.kill(leader.name, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    const counts = await Promise.all(writers);
    console.log(`round ${round}: killed leader ${leader.name}; ${counts.join('/')} writes answered; slowest ${slowest.map((x) => Math.round(x)).join('/')} ms`);
    // Each acknowledged POST created exactly one item: none lost, none applied twice.
    for (const [k, count] of counts.entries()) {
      const f = followers[Math.floor(k / 2)]!;
      const res = await fetch(`${f.clientUrl}/v2/keys${dir}/w${Math.floor(k / 2)}${k % 2}?quorum=true&sorted=true`);
      const { node } = (await res.json()) as { node: { nodes?: { value: string }[] } };
      assert.deepEqual(node.nodes?.map((x) => Number(x.value)), Array.from({ length: count }, (_, i) => i), `queue of writer ${Math.floor(k / 2)}${k % 2}`);
    }
    for (const ms of slowest) assert.ok(ms < 5000, `a write took ${Math.round(ms)} ms: it waited out the request timeout`);
    await cluster.restart(leader.name);
  }
});
