import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { requireChromium } from '../../../lib/testing/requirements.ts';
import { basicAuthHeader } from '../auth-testing/probe.ts';
import { launchChromium, screenshot } from './browser-testing.ts';

const ROOT: [string, string] = ['root', 'rootpw'];
const READER: [string, string] = ['alice', 'alicepw'];
const SECRET_VALUE = 'db-password-s3cr3t';

/** Sends one request; fails the test on an unexpected status. */
async function call(url: string, method: string, body: string | URLSearchParams | null, as: [string, string] | null, want: number[]): Promise<Response> {
  const headers: Record<string, string> = {};
  if (as) headers.authorization = basicAuthHeader(...as);
  if (typeof body === 'string') headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body });
  assert.ok(want.includes(res.status), `${method} ${url}: HTTP ${res.status} ${await res.clone().text()}`);
  return res;
}

/** etcd 3.4's v2 auth: root, a role reading /app/*, a user with it, guest stripped of access. */
async function enableAuth(url: string): Promise<void> {
  for (const [key, value] of [['app/name', 'shop'], ['app/db/host', 'db1'], ['secret/token', SECRET_VALUE]]) {
    await call(`${url}/v2/keys/${key}`, 'PUT', new URLSearchParams({ value: value! }), null, [201]);
  }
  await call(`${url}/v2/auth/users/root`, 'PUT', JSON.stringify({ user: 'root', password: ROOT[1] }), null, [201]);
  await call(`${url}/v2/auth/roles/reader`, 'PUT', JSON.stringify({ role: 'reader', permissions: { kv: { read: ['/app/*'], write: [] } } }), null, [201]);
  await call(`${url}/v2/auth/users/alice`, 'PUT', JSON.stringify({ user: 'alice', password: READER[1], roles: ['reader'] }), null, [200, 201]); // etcd answers 200 here
  await call(`${url}/v2/auth/enable`, 'PUT', null, ROOT, [200]);
  await call(`${url}/v2/auth/roles/guest`, 'PUT', JSON.stringify({ role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }), ROOT, [200]);
  // The premise: etcd's own answer to the reader for /secret is a 401.
  await call(`${url}/v2/keys/secret/token`, 'GET', null, READER, [401]);
}

async function signIn(page: Page, [user, password]: [string, string]): Promise<void> {
  await page.waitForSelector('#login[open]');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

async function openPath(page: Page, path: string): Promise<void> {
  await page.fill('#open-path', path);
  await page.click('#open-go');
}

/** The page's own endpoints: cluster stats to anyone and no key; the session check tells wrong from denied. */
async function checkServerEndpoints(url: string): Promise<void> {
  const sample = await (await call(`${url}/dashboard/api/sample`, 'GET', null, null, [200])).text();
  assert.ok(!sample.includes(SECRET_VALUE) && !sample.includes('/secret') && !sample.includes('/app'), 'the sample leaks keys');
  const session = async (as: [string, string] | null, want: number) => (await call(`${url}/dashboard/api/session`, 'GET', null, as, [want])).json();
  assert.deepEqual(await session([READER[0], 'wrong'], 401), { message: 'wrong user name or password' });
  assert.deepEqual(await session(['nobody', 'x'], 401), { message: 'wrong user name or password' });
  assert.deepEqual(await session(READER, 200), { authEnabled: true, user: 'alice', roles: ['reader'], root: false, read: ['/app/*'], write: [] });
  assert.equal((await session(ROOT, 200)).root, true);
  assert.deepEqual(await session(null, 200), { authEnabled: true, user: null, roles: ['guest'], root: false, read: [], write: [] });
}

/** Root: asked first, then sees the whole tree and a secret value. */
async function rootSeesEverything(page: Page): Promise<void> {
  await signIn(page, ROOT);
  await page.waitForSelector('#whoami[data-user="root"]');
  await page.waitForSelector('#tree .node[data-key="/app"]');
  await page.waitForSelector('#tree .node[data-key="/secret"]');
  await openPath(page, '/secret/token');
  await page.waitForFunction((v) => (document.getElementById('value-input') as HTMLTextAreaElement).value === v, SECRET_VALUE);
}

/** Sign out empties the panels and asks again; a wrong password says so and the dialog stays. */
async function signOutThenWrongPassword(page: Page): Promise<void> {
  await page.click('#sign-out');
  assert.equal(await page.locator('#value-input').inputValue(), '');
  assert.equal(await page.locator('#tree .node').count(), 0);
  await signIn(page, [READER[0], 'not-the-password']);
  await page.waitForFunction(() => document.getElementById('login-error')?.textContent === 'wrong user name or password');
  assert.ok(await page.locator('#login[open]').isVisible());
  await screenshot(page, 'auth-wrong-password');
}

/** The reader: "no read permission for /", the /app values, a live watch with their credentials. */
async function readerSeesApp(page: Page, url: string): Promise<void> {
  await page.fill('#login-password', READER[1]);
  await page.click('#login-submit');
  await page.waitForSelector('#whoami[data-user="alice"]');
  await page.waitForSelector('#tree .denied[data-denied="/"]');
  await page.click('#tree .node[data-key="/app/"]');
  await page.click('#tree .node[data-key="/app/name"]');
  await page.waitForFunction(() => (document.getElementById('value-input') as HTMLTextAreaElement).value === 'shop');
  await page.fill('#watch-prefix', '/app');
  await page.click('#watch-start');
  await page.waitForSelector('#watch-events[data-ready="true"]', { state: 'attached' });
  // No wait needed: the watch starts at the index read before data-ready, so a write now is in it.
  await call(`${url}/v2/keys/app/live`, 'PUT', new URLSearchParams({ value: 'v' }), ROOT, [201]);
  await page.waitForSelector('#watch-events li[data-key="/app/live"]', { timeout: 2000 });
}

/** The reader on /secret and on a write: "no read permission", etcd's error, never the dialog. */
async function readerIsDenied(page: Page): Promise<void> {
  await page.fill('#watch-prefix', '/secret');
  await page.click('#watch-start');
  await page.waitForSelector('#watch-events .denied[data-denied="/secret/"]');
  await screenshot(page, 'auth-reader');
  await openPath(page, '/secret/token');
  await page.waitForSelector('#key-meta[data-denied="true"]');
  assert.equal(await page.locator('#key-meta').textContent(), 'no read permission for /secret/token');
  assert.equal(await page.locator('#value-input').inputValue(), '');
  await page.fill('#key-input', '/app/name');
  await page.fill('#value-input', 'changed by a reader');
  await page.click('#save-key');
  await page.waitForFunction(() => document.getElementById('key-meta')?.textContent?.includes('Insufficient credentials'));
  assert.equal(await page.locator('#login[open]').count(), 0, 'a denied write must not ask for a password again');
}

/** A password changed behind the page's back asks again (it is not "no read permission"). */
async function changedPasswordAsksAgain(page: Page, url: string): Promise<void> {
  await call(`${url}/v2/auth/users/alice`, 'PUT', JSON.stringify({ user: 'alice', password: 'alice-new' }), ROOT, [200]);
  await openPath(page, '/app/db/');
  await page.waitForSelector('#login[open]');
  assert.equal(await page.locator('#login-error').textContent(), 'wrong user name or password: sign in again');
  await page.fill('#login-password', 'alice-new');
  await page.click('#login-submit');
  await page.waitForSelector('#tree .node[data-key="/app/db/host"]');
}

test('with auth on the dashboard asks who you are and shows only what you may read', { timeout: 60_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  await enableAuth(url);
  await checkServerEndpoints(url);

  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/dashboard`);

  await rootSeesEverything(page);
  await signOutThenWrongPassword(page);
  await readerSeesApp(page, url);
  await readerIsDenied(page);
  await changedPasswordAsksAgain(page, url);

  const value = (await (await call(`${url}/v2/keys/app/name`, 'GET', null, ROOT, [200])).json()) as { node: { value: string } };
  assert.equal(value.node.value, 'shop', "the reader's denied write changed nothing");
  assert.deepEqual(errors, []);
});
