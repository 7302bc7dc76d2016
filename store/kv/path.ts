/** A doubled slash, or a "." or ".." segment. */
const UNCLEAN = /\/\/|\/\.\.?(\/|$)/;

/**
 * Key paths as etcd normalizes them: Go's path.Clean of "/" + key. Duplicate slashes collapse,
 * "." and ".." resolve (never above the root), a trailing slash goes.
 */
export function cleanKey(key: string): string {
  // Most keys are already clean; it is checked on every request and on every watcher notified.
  if (key === '/' || (key.startsWith('/') && !key.endsWith('/') && !UNCLEAN.test(key))) return key;
  const parts: string[] = [];
  for (const seg of key.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** "/a/b/c" -> ["a", "b", "c"]; "/" -> []. Expects a cleaned key. */
export function segments(cleaned: string): string[] {
  return cleaned === '/' ? [] : cleaned.slice(1).split('/');
}

/** The last segment of a cleaned key ("" for the root). */
export function baseName(cleaned: string): string {
  return cleaned.slice(cleaned.lastIndexOf('/') + 1);
}

export function joinKey(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * Whether an event at `keyPath` is hidden from a watcher at `watchPath`: some segment below the
 * watched path starts with "_". A watcher on the hidden key itself still sees it (etcd's rule).
 */
export function hiddenFromWatcher(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false; // a deleted dir notifying watchers below it
  const after = cleanKey('/' + keyPath.slice(watchPath.length));
  return after.includes('/_');
}
