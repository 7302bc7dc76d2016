/**
 * Builds berth's container image without a registry: a root file system made of the host's node
 * binary, the shared libraries `ldd` lists, busybox (a shell and wget for in-container checks)
 * and the package (sources + production node_modules), imported with `docker import`.
 * The tag is the package version; a label carries a hash of the sources so a changed tree
 * rebuilds and an unchanged one is reused.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { BERTH_VERSION } from '../../lib/version.ts';
import { ImageBuildError } from '../errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['bin', 'lib', 'store', 'registrator', 'proxy-reloader', 'templates'];
/** The image's repository name unless told otherwise (BERTH_IMAGE_REPO or the repo option). */
export const IMAGE_REPO = 'berth';
/** The default tag: the repository and the package version. */
export const IMAGE_TAG = `${IMAGE_REPO}:${BERTH_VERSION}`;
const HASH_LABEL = 'dev.berth.source-hash';

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && !e.name.endsWith('.test.ts')) out.push(p);
  }
}

/** Production packages from package-lock.json (those not marked dev). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, meta]) => path !== '' && !meta.dev && existsSync(join(ROOT, path)))
    .map(([path]) => path);
}

export function sourceHash(): string {
  const h = createHash('sha256');
  h.update(readFileSync(process.execPath).subarray(0, 4096));
  h.update(process.version);
  // The recipe itself: a change to what goes into the root file system must rebuild too.
  h.update(readFileSync(import.meta.filename));
  const files: string[] = [join(ROOT, 'package.json'), join(ROOT, 'package-lock.json')];
  for (const d of SOURCE_DIRS) walk(join(ROOT, d), files);
  for (const f of files.sort()) {
    h.update(relative(ROOT, f));
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

function copyInto(rootfs: string, hostPath: string): void {
  const dest = join(rootfs, hostPath);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(hostPath, dest);
}

function currentImageHash(tag: string): string | null {
  const r = spawnSync('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${HASH_LABEL}" }}`, tag], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Options of ensureBerthImage. */
export interface BerthImageOptions {
  /** Rebuild even when an image with the same source hash exists. */
  force?: boolean;
  /** Repository name of the tag (default BERTH_IMAGE_REPO, else `berth`); the tag is always the package version. */
  repo?: string;
  log?: (line: string) => void;
}

/** Builds the image unless one with the same source hash exists. Returns the tag. */
export function ensureBerthImage(opts: BerthImageOptions = {}): string {
  const log = opts.log ?? (() => {});
  const tag = `${opts.repo ?? (process.env.BERTH_IMAGE_REPO || IMAGE_REPO)}:${BERTH_VERSION}`;
  const hash = sourceHash();
  if (!opts.force && currentImageHash(tag) === hash) {
    log(`${tag} is up to date (${hash})`);
    return tag;
  }
  const started = Date.now();
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-rootfs-'));
  try {
    const node = process.execPath;
    copyInto(rootfs, node);
    if (node !== '/usr/bin/node') {
      mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
      symlinkSync(node, join(rootfs, 'usr/bin/node'));
    }
    for (const lib of sharedLibraries(node)) copyInto(rootfs, lib);
    // busybox is static: one file gives the container sh, wget, nc and friends.
    const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
    if (!busybox) throw new ImageBuildError('busybox is missing on the host: apt-get install -y busybox-static (scripts/install-deps.sh does it)');
    mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
    copyFileSync(busybox, join(rootfs, 'usr/bin/busybox'));
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const tool of ['sh', 'wget', 'nc', 'cat', 'ls', 'sleep', 'kill', 'ps', 'ip', 'ifconfig', 'awk', 'grep']) symlinkSync('/usr/bin/busybox', join(rootfs, 'bin', tool));
    mkdirSync(join(rootfs, 'tmp'), { recursive: true, mode: 0o1777 });
    mkdirSync(join(rootfs, 'data'), { recursive: true });
    const app = join(rootfs, 'app');
    mkdirSync(app, { recursive: true });
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) copyFileSync(join(ROOT, f), join(app, f));
    for (const d of SOURCE_DIRS) if (existsSync(join(ROOT, d))) cpSync(join(ROOT, d), join(app, d), { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
    for (const pkg of productionPackages()) cpSync(join(ROOT, pkg), join(app, pkg), { recursive: true, dereference: false, filter: (src) => !statSync(src).isDirectory() || !src.endsWith('/node_modules/.cache') });
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new ImageBuildError(`tar failed: ${tar.stderr.toString()}`);
    const imp = spawnSync(
      'docker',
      [
        'import',
        '--change', 'WORKDIR /app',
        '--change', 'ENV PATH=/bin:/usr/bin NODE_ENV=production',
        '--change', `LABEL ${HASH_LABEL}=${hash}`,
        '--change', 'ENTRYPOINT ["/usr/bin/node", "/app/bin/berth"]',
        '--change', 'CMD ["store"]',
        '-', tag,
      ],
      { input: tar.stdout, encoding: 'buffer', maxBuffer: 1 << 20 },
    );
    if (imp.status !== 0) throw new ImageBuildError(`docker import failed: ${imp.stderr.toString()}`);
    log(`built ${tag} (${hash}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return tag;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const repoArg = process.argv.find((a) => a.startsWith('--repo='));
  ensureBerthImage({ force: process.argv.includes('--force'), repo: repoArg?.slice('--repo='.length), log: (l) => console.log(l) });
}
