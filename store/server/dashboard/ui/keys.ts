// The key browser and the live watch panel. Both read through /v2/keys with the user's own
// credentials; where etcd answers 401 to a signed-in user the panel says "no read permission"
// (or shows etcd's error for a write) instead of asking for a password again.
import { api, currentSession } from './session.ts';

interface V2Node {
  key?: string;
  value?: string;
  dir?: boolean;
  ttl?: number;
  expiration?: string;
  nodes?: V2Node[];
  modifiedIndex?: number;
  createdIndex?: number;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const keyUrl = (key: string) => '/v2/keys' + key.split('/').map(encodeURIComponent).join('/');

function deniedNote(what: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'denied';
  p.dataset.denied = what;
  p.textContent = `no read permission for ${what}`;
  return p;
}

async function loadDir(key: string): Promise<V2Node[] | 'denied' | string> {
  const res = await api(`${keyUrl(key)}?sorted=true`);
  const body = (await res.json().catch(() => ({}))) as { node?: V2Node; message?: string };
  if (res.status === 401) return 'denied';
  if (!res.ok) return body.message ?? `HTTP ${res.status}`;
  return body.node?.nodes ?? [];
}

function nodeLabel(key: string, dir: boolean, text: string, li: HTMLElement): HTMLElement {
  const label = document.createElement('span');
  label.textContent = text;
  label.className = `node ${dir ? 'dir' : 'file'}`;
  label.dataset.key = key;
  label.addEventListener('click', async (ev) => {
    ev.stopPropagation();
    document.querySelectorAll('.tree .selected').forEach((e) => e.classList.remove('selected'));
    label.classList.add('selected');
    await showKey(key);
    if (dir) {
      const open = label.classList.toggle('open');
      li.querySelector(':scope > ul, :scope > .denied')?.remove();
      if (open) await renderTree(li, key);
    }
  });
  return label;
}

// Bumped by every reload of the whole tree, so a slow listing cannot land in a newer tree.
let treeGeneration = 0;

async function renderTree(container: HTMLElement, key: string, generation = treeGeneration): Promise<void> {
  const nodes = await loadDir(key);
  if (generation !== treeGeneration) return;
  if (nodes === 'denied') return void container.appendChild(deniedNote(key));
  if (typeof nodes === 'string') {
    const p = document.createElement('p');
    p.textContent = nodes;
    return void container.appendChild(p);
  }
  const ul = document.createElement('ul');
  for (const n of nodes) {
    const li = document.createElement('li');
    li.appendChild(nodeLabel(n.key!, !!n.dir, n.key!.slice(n.key!.lastIndexOf('/') + 1), li));
    ul.appendChild(li);
  }
  container.appendChild(ul);
}

/**
 * Where a user who may not read `/` can start: `/app/*` opens the directory `/app/` (etcd
 * matches the key with its trailing slash, not `/app`), a plain pattern is a single key.
 */
export function readableRoots(patterns: string[]): { key: string; dir: boolean }[] {
  return patterns.map((p) => (p.endsWith('*') ? { key: p.slice(0, -1) || '/', dir: true } : { key: p, dir: false }));
}

/** Reloads the tree: `/` when readable, else the prefixes the user's roles may read. */
export async function refreshTree(): Promise<void> {
  const tree = $('tree');
  tree.innerHTML = '';
  const generation = ++treeGeneration;
  const session = currentSession();
  if (!session) return;
  const nodes = await loadDir('/');
  if (generation !== treeGeneration) return;
  if (nodes !== 'denied') return renderTree(tree, '/', generation);
  tree.appendChild(deniedNote('/'));
  const ul = document.createElement('ul');
  for (const root of readableRoots(session.read)) {
    const li = document.createElement('li');
    li.appendChild(nodeLabel(root.key, root.dir, root.key, li));
    ul.appendChild(li);
  }
  tree.appendChild(ul);
}

async function showKey(key: string): Promise<void> {
  const res = await api(keyUrl(key));
  const body = (await res.json().catch(() => ({}))) as { node?: V2Node; message?: string; cause?: string };
  $<HTMLInputElement>('key-input').value = key;
  const n = res.ok ? body.node : undefined;
  $<HTMLTextAreaElement>('value-input').value = n?.value ?? '';
  $<HTMLInputElement>('dir-input').checked = !!n?.dir;
  $<HTMLInputElement>('ttl-input').value = n?.ttl ? String(n.ttl) : '';
  const meta = $('key-meta');
  meta.dataset.denied = String(res.status === 401);
  if (res.status === 401) meta.textContent = `no read permission for ${key}`;
  else if (n) meta.textContent = `created ${n.createdIndex}, modified ${n.modifiedIndex}${n.ttl ? `, ttl ${n.ttl}s (expires ${n.expiration})` : ''}`;
  else meta.textContent = body.message ? `${body.message}${body.cause ? ` (${body.cause})` : ''}` : `HTTP ${res.status}`;
}

function errorText(res: Response, body: { message?: string; cause?: string }): string {
  return body.message ? `${body.message}${body.cause ? ` (${body.cause})` : ''}` : `HTTP ${res.status}`;
}

/** Wires the path box, the edit form and delete (with a confirmation). */
export function setupKeyForm(): void {
  $<HTMLFormElement>('open-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = $<HTMLInputElement>('open-path').value.trim() || '/';
    const tree = $('tree');
    tree.innerHTML = '';
    const generation = ++treeGeneration;
    await showKey(key);
    if (generation !== treeGeneration) return;
    if ($<HTMLInputElement>('dir-input').checked || key.endsWith('/')) await renderTree(tree, key, generation);
  });
  $<HTMLFormElement>('key-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = $<HTMLInputElement>('key-input').value.trim();
    const dir = $<HTMLInputElement>('dir-input').checked;
    const ttl = $<HTMLInputElement>('ttl-input').value.trim();
    const form = new URLSearchParams();
    if (dir) form.set('dir', 'true');
    else form.set('value', $<HTMLTextAreaElement>('value-input').value);
    if (ttl) form.set('ttl', ttl);
    const res = await api(keyUrl(key), { method: 'PUT', body: form });
    const body = (await res.json().catch(() => ({}))) as { message?: string; cause?: string };
    $('key-meta').textContent = res.ok ? 'saved' : errorText(res, body);
    if (res.ok) await refreshTree();
  });
  $('delete-key').addEventListener('click', async () => {
    const key = $<HTMLInputElement>('key-input').value.trim();
    if (!key || !confirm(`Delete ${key}${$<HTMLInputElement>('dir-input').checked ? ' and everything under it' : ''}?`)) return;
    const q = $<HTMLInputElement>('dir-input').checked ? '?recursive=true' : '';
    const res = await api(keyUrl(key) + q, { method: 'DELETE' });
    const body = (await res.json().catch(() => ({}))) as { message?: string; cause?: string };
    $('key-meta').textContent = res.ok ? 'deleted' : errorText(res, body);
    if (res.ok) await refreshTree();
  });
}

/** Empties the key panels (a new user must not see what the last one read). */
export function clearKeys(): void {
  treeGeneration++;
  $('tree').innerHTML = '';
  for (const id of ['key-input', 'value-input', 'ttl-input', 'open-path']) $<HTMLInputElement>(id).value = '';
  $('key-meta').textContent = '';
  stopWatch();
}

// ---- live watch ------------------------------------------------------------------------------

let watchGeneration = 0;

/** Ends the running watch (its long poll ends with the next event or timeout). */
export function stopWatch(): void {
  watchGeneration++;
  const list = $('watch-events');
  list.innerHTML = '';
  delete list.dataset.ready;
}

function watchDenied(list: HTMLElement, prefix: string): void {
  list.innerHTML = '';
  const li = document.createElement('li');
  li.className = 'denied';
  li.dataset.denied = prefix;
  li.textContent = `no read permission for ${prefix}`;
  list.appendChild(li);
}

async function watchPrefix(prefix: string): Promise<void> {
  stopWatch();
  const generation = watchGeneration;
  const list = $('watch-events');
  list.dataset.prefix = prefix;
  const head = await api(keyUrl(prefix));
  // etcd matches `/app/*` against `/app/` but not `/app`: a reader of the prefix means its inside.
  if (head.status === 401 && !prefix.endsWith('/')) return watchPrefix(prefix + '/');
  if (head.status === 401) return watchDenied(list, prefix);
  let next = Number(head.headers.get('x-etcd-index') ?? '0') + 1;
  await head.arrayBuffer();
  list.dataset.ready = 'true';
  while (generation === watchGeneration) {
    try {
      const res = await api(`${keyUrl(prefix)}?wait=true&recursive=true&waitIndex=${next}`);
      if (res.status === 401) return watchDenied(list, prefix);
      const text = await res.text();
      if (generation !== watchGeneration) return;
      if (!text) continue; // the long poll timed out without an event
      const ev = JSON.parse(text) as { action?: string; node?: V2Node; errorCode?: number; index?: number };
      if (ev.errorCode === 401) {
        next = (ev.index ?? next) + 1; // etcd's "event index cleared": continue from now
        continue;
      }
      if (!ev.node) continue;
      next = (ev.node.modifiedIndex ?? next) + 1;
      const li = document.createElement('li');
      li.textContent = `${ev.action} ${ev.node.key}${ev.node.value !== undefined ? ` = ${ev.node.value}` : ''} @${ev.node.modifiedIndex}`;
      li.dataset.key = ev.node.key ?? '';
      list.prepend(li);
      while (list.children.length > 200) list.lastElementChild?.remove();
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Wires the watch form. */
export function setupWatch(): void {
  $<HTMLFormElement>('watch-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void watchPrefix($<HTMLInputElement>('watch-prefix').value.trim() || '/');
  });
}
