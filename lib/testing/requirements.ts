import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * Tests that need a real component (etcd, Docker, nginx, Chromium) call this first. Under
 * CI=true a missing component fails the test; elsewhere the test skips with one line that
 * says how to install it.
 */
export function requireComponent(t: TestContext, what: string, available: boolean, howToInstall: string): boolean {
  if (available) return true;
  const reason = `${what} is not available: ${howToInstall}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: required)`);
  t.skip(reason);
  return false;
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function dockerAvailable(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

/** `if (!requireEtcd(t)) return;` */
export function requireEtcd(t: TestContext): boolean {
  return requireComponent(t, 'etcd 3.4', hasBinary('etcd') && hasBinary('etcdctl'), 'apt-get install -y etcd-server etcd-client');
}

export function requireDocker(t: TestContext): boolean {
  return requireComponent(t, 'a Docker engine', dockerAvailable(), 'apt-get install -y docker.io, then start dockerd (scripts/install-deps.sh does both)');
}

export function requireNginx(t: TestContext): boolean {
  return requireComponent(t, 'nginx', hasBinary('nginx') || hasBinary('/usr/sbin/nginx'), 'apt-get install -y nginx');
}

export function requireHaproxy(t: TestContext): boolean {
  return requireComponent(t, 'haproxy', hasBinary('haproxy') || hasBinary('/usr/sbin/haproxy'), 'apt-get install -y haproxy');
}

export function requireChromium(t: TestContext): boolean {
  return requireComponent(t, 'Chromium', hasBinary('/usr/bin/chromium'), 'apt-get install -y chromium');
}
