// Who the page acts as. Credentials are checked against /dashboard/api/session before they
// are kept, because etcd answers a wrong password and a valid user without permission with the
// same 401: only a wrong password asks again; a denied key is the caller's to show.
import type { DashboardSession } from '../session.ts';

/** The server's answer for the credentials the page holds (a type only: erased from the bundle). */
type Session = DashboardSession;

const STORAGE_KEY = 'berth-auth';
const el = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let auth: string | null = sessionStorage.getItem(STORAGE_KEY);
let current: Session | null = null;
const changeListeners: (() => void)[] = [];

/** The session in force, null until the first check answered. */
export function currentSession(): Session | null {
  return current;
}

/** Calls `fn` every time the user changes (sign in, sign out, guest). */
export function onSessionChange(fn: () => void): void {
  changeListeners.push(fn);
}

function send(path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth) headers.set('authorization', auth);
  return fetch(path, { ...init, headers });
}

/**
 * fetch with the user's credentials. On a 401 the credentials are checked again: when they
 * stopped working (password changed, user deleted) or auth was switched on since, the page asks
 * and retries once; when they still work the 401 goes back to the caller: "not allowed".
 */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await send(path, init);
  if (res.status !== 401) return res;
  const fresh = await check(auth).catch(() => null);
  if (!fresh) return res;
  if ('error' in fresh) await askCredentials(`${fresh.error}: sign in again`);
  else if (fresh.authEnabled && !current?.authEnabled) {
    if (fresh.user) adopt(auth, fresh);
    else await askCredentials();
  } else return res;
  return send(path, init);
}

async function check(header: string | null): Promise<Session | { error: string }> {
  const res = await fetch('/dashboard/api/session', { headers: header ? { authorization: header } : {}, cache: 'no-store' });
  const body = (await res.json()) as Session & { message?: string };
  if (res.status === 401) return { error: body.message ?? 'wrong user name or password' };
  if (!res.ok) return { error: body.message ?? `HTTP ${res.status}` };
  return body;
}

function adopt(header: string | null, session: Session): void {
  auth = header;
  if (header) sessionStorage.setItem(STORAGE_KEY, header);
  else sessionStorage.removeItem(STORAGE_KEY);
  current = session;
  renderWho();
  for (const fn of changeListeners) fn();
}

function renderWho(): void {
  const who = el('whoami');
  const signOut = el<HTMLButtonElement>('sign-out');
  const signIn = el<HTMLButtonElement>('sign-in');
  if (!current?.authEnabled) {
    who.textContent = '';
    who.dataset.user = '';
    signOut.hidden = signIn.hidden = true;
    return;
  }
  who.textContent = current.user ? `signed in as ${current.user}` : 'guest';
  who.dataset.user = current.user ?? '';
  signOut.hidden = !current.user;
  signIn.hidden = !!current.user;
}

let asking: Promise<void> | null = null;

/**
 * Shows the sign-in dialog until valid credentials are given or the user goes on as guest.
 * Requests denied while it is open wait for the same answer.
 */
function askCredentials(error = ''): Promise<void> {
  if (asking) return asking;
  asking = showLogin(error).finally(() => {
    asking = null;
  });
  return asking;
}

function showLogin(error: string): Promise<void> {
  const dialog = el<HTMLDialogElement>('login');
  const form = el<HTMLFormElement>('login-form');
  const errorLine = el('login-error');
  errorLine.textContent = error;
  el<HTMLInputElement>('login-password').value = '';
  return new Promise((resolve) => {
    const finish = (header: string | null, session: Session) => {
      form.removeEventListener('submit', onSubmit);
      el('login-guest').removeEventListener('click', onGuest);
      dialog.close();
      adopt(header, session);
      resolve();
    };
    const onSubmit = async (ev: SubmitEvent) => {
      ev.preventDefault();
      const header = 'Basic ' + btoa(`${el<HTMLInputElement>('login-user').value}:${el<HTMLInputElement>('login-password').value}`);
      errorLine.textContent = 'checking…';
      const r = await check(header).catch((e: unknown) => ({ error: String(e) }));
      if ('error' in r) {
        errorLine.textContent = r.error;
        el<HTMLInputElement>('login-password').select();
        return;
      }
      finish(header, r);
    };
    const onGuest = async () => {
      const r = await check(null).catch((e: unknown) => ({ error: String(e) }));
      if ('error' in r) errorLine.textContent = r.error;
      else finish(null, r);
    };
    form.addEventListener('submit', onSubmit);
    el('login-guest').addEventListener('click', onGuest);
    // Escape closes a modal dialog: keep it open, there is a guest button for that.
    dialog.addEventListener('cancel', (ev) => ev.preventDefault());
    if (!dialog.open) dialog.showModal();
    el<HTMLInputElement>(el<HTMLInputElement>('login-user').value ? 'login-password' : 'login-user').focus();
  });
}

/**
 * Settles who the page is: kept credentials if they still work, nobody when auth is off,
 * otherwise asks (a kept password that stopped working asks with that error).
 */
export async function startSession(): Promise<void> {
  for (;;) {
    try {
      const r = await check(auth);
      if ('error' in r) return askCredentials(`${r.error}: sign in again`);
      if (r.authEnabled && !r.user) return askCredentials();
      return adopt(auth, r);
    } catch {
      await new Promise((res) => setTimeout(res, 1000)); // the member is not up yet
    }
  }
}

/** Wires the header's sign-in and sign-out buttons. */
export function setupSessionControls(): void {
  el('sign-out').addEventListener('click', () => {
    auth = null;
    sessionStorage.removeItem(STORAGE_KEY);
    current = null;
    renderWho();
    for (const fn of changeListeners) fn(); // clears what the last user could see
    el<HTMLInputElement>('login-user').value = '';
    void askCredentials('signed out');
  });
  el('sign-in').addEventListener('click', () => void askCredentials());
}
