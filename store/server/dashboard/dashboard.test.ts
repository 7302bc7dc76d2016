import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type StoreCluster } from '../../../lib/testing/store-cluster.ts';
import { requireChromium } from '../../../lib/testing/requirements.ts';
import { waitFor } from '../../../lib/testing/process.ts';
import { launchChromium, screenshot } from './browser-testing.ts';

test('the dashboard shows a 3-node cluster, its latencies, keys and live events, and follows a leader change', { timeout: 120_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const cluster: StoreCluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const browser = await launchChromium();
  t.after(() => browser.close());

  const leaderUrl = await cluster.leaderUrl();
  const follower = cluster.members.find((m) => m.clientUrl !== leaderUrl)!;
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${follower.clientUrl}/dashboard`);

  // Members and the leader, as seen through a follower.
  await page.waitForFunction(() => document.querySelectorAll('#members tbody tr').length === 3, null, { timeout: 10_000 });
  const leaderMember = cluster.members.find((m) => m.clientUrl === leaderUrl)!;
  await page.waitForFunction((name) => document.querySelector('#cluster-summary')?.getAttribute('data-leader') === name, leaderMember.name, { timeout: 10_000 });
  assert.equal(await page.locator('#members tr.leader').getAttribute('data-name'), leaderMember.name);

  // The latency chart has points for both followers.
  await page.waitForFunction(() => Number(document.querySelector('#latency-chart')?.getAttribute('data-series')) >= 2 && Number(document.querySelector('#latency-chart')?.getAttribute('data-points')) >= 4, null, { timeout: 15_000 });
  assert.equal(await page.locator('#followers .follower').count(), 2);

  // A key created in the browser is visible to curl.
  await page.fill('#key-input', '/dash/created');
  await page.fill('#value-input', 'from the browser');
  await page.click('#save-key');
  await waitFor('the browser-created key', async () => {
    const res = await fetch(`${leaderUrl}/v2/keys/dash/created?quorum=true`);
    return res.status === 200 && ((await res.json()) as { node: { value: string } }).node.value === 'from the browser';
  }, 5000);

  // A write by "curl" shows up in the live watch panel within 1 s.
  await page.fill('#watch-prefix', '/dash');
  await page.click('#watch-start');
  await page.waitForSelector('#watch-events[data-ready="true"]', { state: 'attached' });
  await new Promise((r) => setTimeout(r, 200)); // let the long poll reach the member
  const wroteAt = Date.now();
  const put = await fetch(`${leaderUrl}/v2/keys/dash/live`, { method: 'PUT', body: new URLSearchParams({ value: 'curl' }) });
  assert.equal(put.status, 201);
  await page.waitForSelector('#watch-events li[data-key="/dash/live"]', { timeout: 1000 });
  const seenMs = Date.now() - wroteAt;
  assert.ok(seenMs <= 1000, `watch event took ${seenMs} ms`);
  await screenshot(page, 'cluster');

  // Killing the leader: the page shows the new leader within 3 s.
  await cluster.kill(leaderMember.name, 'SIGKILL');
  const killedAt = Date.now();
  await page.waitForFunction(
    (old) => {
      const l = document.querySelector('#cluster-summary')?.getAttribute('data-leader');
      return !!l && l !== old;
    },
    leaderMember.name,
    { timeout: 3000 },
  );
  const newLeader = await page.locator('#cluster-summary').getAttribute('data-leader');
  console.log(`new leader ${newLeader} shown ${Date.now() - killedAt} ms after SIGKILL of ${leaderMember.name}`);
  await screenshot(page, 'after-leader-kill');
  assert.deepEqual(errors, []);
});

test('/metrics has etcd metric names and its counters move with writes', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return res.text();
  };
  const value = (text: string, name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
    assert.ok(line, `metric ${name} missing`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const before = await scrape();
  for (const name of ['etcd_server_has_leader', 'etcd_server_leader_changes_seen_total', 'etcd_server_proposals_committed_total', 'etcd_server_proposals_applied_total', 'etcd_server_proposals_failed_total', 'etcd_server_proposals_pending', 'etcd_disk_wal_fsync_duration_seconds_count']) {
    value(before, name);
  }
  assert.equal(value(before, 'etcd_server_has_leader'), 1);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${url}/v2/keys/metrics/k${i}`, { method: 'PUT', body: new URLSearchParams({ value: 'v' }) });
    await res.arrayBuffer();
  }
  const after = await scrape();
  assert.ok(value(after, 'etcd_server_proposals_committed_total') >= value(before, 'etcd_server_proposals_committed_total') + 20);
  assert.ok(value(after, 'etcd_server_proposals_applied_total') >= value(before, 'etcd_server_proposals_applied_total') + 20);
  assert.ok(value(after, 'etcd_disk_wal_fsync_duration_seconds_count') > value(before, 'etcd_disk_wal_fsync_duration_seconds_count'));
  const puts = (text: string) => Number(/^etcd_http_received_total\{method="PUT"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  assert.equal(puts(after) - puts(before), 20, 'PUTs counted in etcd_http_received_total');
  assert.equal(puts(await scrape()), puts(after), 'a scrape changed the count');
  // Each PUT, one after the other, is at least one Ready of its own.
  assert.ok(value(after, 'berth_raft_readies_handled_total') >= value(before, 'berth_raft_readies_handled_total') + 20);
  assert.ok(value(after, 'berth_raft_ready_busy_seconds') < 1, 'a Ready in hand for a second while idle');
});

test('/metrics shows how long each peer link has been silent', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  // Probes are answered every second, so a live link was heard from within the last two.
  const silences = async (url: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('berth_peer_link_silent_seconds{')).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  };
  for (const url of cluster.clientUrls) {
    await waitFor(`${url}: both peer links heard from within 2 s`, async () => {
      const s = await silences(url);
      return s.length === 2 && s.every((v) => v >= 0 && v < 2);
    }, 10_000, 100);
  }
  await cluster.kill(cluster.members[0]!.name);
  await waitFor('member 1 to see its link to the killed member down', async () => (await silences(cluster.clientUrls[1]!)).includes(-1), 10_000, 100);
});
