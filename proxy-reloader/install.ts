/** Staging, atomic install and restore of rendered files. */
import { chmod, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The current content of `path`, or null when it does not exist. */
export async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes `content` to a temp file next to `dest` (same file system, so rename is atomic), fsynced. */
export async function stage(dest: string, content: string, perms: number): Promise<string> {
  const tmp = join(dirname(dest), `.${basename(dest)}.berth-${process.pid}-${Date.now()}`);
  const fh = await open(tmp, 'w', perms);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Moves a staged file into place: rename (atomic), or copy into the existing inode (bind mounts). */
export async function install(staged: string, dest: string, mode: 'rename' | 'inplace'): Promise<void> {
  if (mode === 'rename') {
    // Keep the mode of the file we replace, as editors and confd do.
    const old = await stat(dest).catch(() => null);
    if (old) await chmod(staged, old.mode & 0o7777);
    await rename(staged, dest);
    return;
  }
  const content = await readFile(staged);
  await writeFile(dest, content);
  await rm(staged, { force: true });
}

/** Puts back what `dest` held before (null: it did not exist). */
export async function restore(dest: string, previous: string | null, mode: 'rename' | 'inplace', perms: number): Promise<void> {
  if (previous === null) {
    await rm(dest, { force: true });
    return;
  }
  const staged = await stage(dest, previous, perms);
  await install(staged, dest, mode);
}
