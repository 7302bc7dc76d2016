/**
 * Request sequences for the differential test: each runs against berth and against etcd 3.4,
 * under its own key prefix, and every response must match after normalization.
 * `${name}` in a path or body is replaced by a value captured earlier in the same sequence.
 */
export interface Step {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD' | 'PATCH';
  /** Path after /v2/keys, with the query. */
  path: string;
  /** Form fields (sent as application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** Raw body with its content type (for malformed-input steps). */
  raw?: { body: string; type: string };
  /** Captures node.modifiedIndex of the response under this name. */
  capture?: string;
  /** Starts the request and goes on; its response is compared at `await`. */
  background?: string;
  /** Waits for a background request started earlier. */
  await?: string;
  /** Sleeps before sending (for TTL expiry). */
  sleepMs?: number;
}

export interface Sequence {
  name: string;
  steps: Step[];
}

const put = (path: string, form: Record<string, string> = {}, extra: Partial<Step> = {}): Step => ({ method: 'PUT', path, form, ...extra });
const get = (path: string, extra: Partial<Step> = {}): Step => ({ method: 'GET', path, ...extra });
const del = (path: string, extra: Partial<Step> = {}): Step => ({ method: 'DELETE', path, ...extra });
const post = (path: string, form: Record<string, string> = {}, extra: Partial<Step> = {}): Step => ({ method: 'POST', path, form, ...extra });

export const SEQUENCES: Sequence[] = [
  // --- set / get ---------------------------------------------------------------------------
  { name: 'set then get a key', steps: [put('/K/a', { value: '1' }), get('/K/a')] },
  { name: 'set twice shows prevNode', steps: [put('/K/a', { value: '1' }), put('/K/a', { value: '2' }), get('/K/a')] },
  { name: 'get a missing key', steps: [get('/K/missing')] },
  { name: 'set an empty value', steps: [put('/K/e', { value: '' }), get('/K/e')] },
  { name: 'set without a value field', steps: [put('/K/nv', {}), get('/K/nv')] },
  { name: 'set creates intermediate dirs', steps: [put('/K/a/b/c', { value: 'deep' }), get('/K/a'), get('/K/a/b'), get('/K/a/b/c')] },
  { name: 'set under a file fails (104)', steps: [put('/K/f', { value: '1' }), put('/K/f/child', { value: '2' }), get('/K/f/child')] },
  { name: 'set on a directory fails (102)', steps: [put('/K/d', { dir: 'true' }), put('/K/d', { value: 'x' })] },
  { name: 'unicode keys and values', steps: [put('/K/h%C3%A9llo', { value: 'wörld ✓' }), get('/K/h%C3%A9llo')] },
  { name: 'key with spaces and escapes', steps: [put('/K/a%20b', { value: 'v' }), get('/K/a%20b'), get('/K?recursive=true&sorted=true')] },
  { name: 'value from the query string', steps: [put('/K/q?value=fromquery'), get('/K/q')] },
  { name: 'body value beats query value', steps: [put('/K/q?value=fromquery', { value: 'frombody' }), get('/K/q')] },
  { name: 'HEAD a key', steps: [put('/K/h', { value: '1' }), { method: 'HEAD', path: '/K/h' }, { method: 'HEAD', path: '/K/missing' }] },
  { name: 'root is read only', steps: [put('', { value: '1' }), put('/', { value: '1' }), del('/?dir=true')] },

  // --- directories ----------------------------------------------------------------------
  { name: 'make a directory', steps: [put('/K/d', { dir: 'true' }), get('/K/d')] },
  { name: 'directory listing one level', steps: [put('/K/d/a', { value: '1' }), put('/K/d/b/c', { value: '2' }), get('/K/d?sorted=true')] },
  { name: 'recursive sorted listing', steps: [put('/K/d/z', { value: '1' }), put('/K/d/a/x', { value: '2' }), put('/K/d/a/y', { value: '3' }), get('/K/d?recursive=true&sorted=true')] },
  { name: 'mkdir twice with prevExist=false (105)', steps: [put('/K/d', { dir: 'true', prevExist: 'false' }), put('/K/d', { dir: 'true', prevExist: 'false' })] },
  { name: 'set dir over existing dir (102)', steps: [put('/K/d', { dir: 'true' }), put('/K/d', { dir: 'true' })] },
  { name: 'set dir over a file replaces it', steps: [put('/K/f', { value: '1' }), put('/K/f', { dir: 'true' }), get('/K/f')] },
  { name: 'update a dir ttl then remove it', steps: [put('/K/d', { dir: 'true' }), put('/K/d', { dir: 'true', prevExist: 'true', ttl: '100' }), put('/K/d', { dir: 'true', prevExist: 'true' }), get('/K/d')] },
  { name: 'update a dir with a value (102)', steps: [put('/K/d', { dir: 'true' }), put('/K/d', { value: 'x', prevExist: 'true' })] },
  { name: 'empty dir listing', steps: [put('/K/empty', { dir: 'true' }), get('/K/empty?recursive=true')] },

  // --- delete -----------------------------------------------------------------------------
  { name: 'delete a key', steps: [put('/K/a', { value: '1' }), del('/K/a'), get('/K/a')] },
  { name: 'delete a missing key', steps: [del('/K/nothing')] },
  { name: 'delete a dir without dir=true (102)', steps: [put('/K/d', { dir: 'true' }), del('/K/d')] },
  { name: 'delete an empty dir', steps: [put('/K/d', { dir: 'true' }), del('/K/d?dir=true'), get('/K/d')] },
  { name: 'delete a non-empty dir (108)', steps: [put('/K/d/a', { value: '1' }), del('/K/d?dir=true')] },
  { name: 'recursive delete', steps: [put('/K/d/a', { value: '1' }), put('/K/d/b/c', { value: '2' }), del('/K/d?recursive=true'), get('/K/d')] },
  { name: 'delete a file with dir=true', steps: [put('/K/f', { value: '1' }), del('/K/f?dir=true')] },
  { name: 'delete root recursively is refused', steps: [del('/?recursive=true')] },

  // --- create / update / CAS / CAD ------------------------------------------------------
  { name: 'create with prevExist=false', steps: [put('/K/c', { value: '1', prevExist: 'false' }), put('/K/c', { value: '2', prevExist: 'false' }), get('/K/c')] },
  { name: 'update with prevExist=true', steps: [put('/K/u', { value: '1', prevExist: 'true' }), put('/K/u', { value: '1' }), put('/K/u', { value: '2', prevExist: 'true' })] },
  { name: 'CAS by value', steps: [put('/K/c', { value: 'one' }), put('/K/c', { value: 'two', prevValue: 'one' }), put('/K/c', { value: 'three', prevValue: 'one' })] },
  { name: 'CAS by index', steps: [put('/K/c', { value: 'one' }, { capture: 'i' }), put('/K/c', { value: 'two', prevIndex: '${i}' }), put('/K/c', { value: 'three', prevIndex: '${i}' })] },
  { name: 'CAS by value and index, both wrong', steps: [put('/K/c', { value: 'one' }), put('/K/c', { value: 'two', prevValue: 'nope', prevIndex: '1' })] },
  { name: 'CAS on a missing key', steps: [put('/K/none', { value: 'x', prevValue: 'y' })] },
  { name: 'CAS on a dir (102)', steps: [put('/K/d', { dir: 'true' }), put('/K/d', { value: 'x', prevValue: 'y' })] },
  { name: 'CAS with prevExist=true and prevValue', steps: [put('/K/c', { value: 'a' }), put('/K/c', { value: 'b', prevExist: 'true', prevValue: 'a' })] },
  { name: 'empty prevValue (201)', steps: [put('/K/c', { value: 'a' }), put('/K/c', { value: 'b', prevValue: '' })] },
  { name: 'compare-and-delete by value', steps: [put('/K/c', { value: 'a' }), del('/K/c?prevValue=b'), del('/K/c?prevValue=a'), get('/K/c')] },
  { name: 'compare-and-delete by index', steps: [put('/K/c', { value: 'a' }, { capture: 'i' }), del('/K/c?prevIndex=1'), del('/K/c?prevIndex=${i}')] },
  { name: 'compare-and-delete a dir (102)', steps: [put('/K/d', { dir: 'true' }), del('/K/d?prevValue=x')] },

  // --- in-order keys --------------------------------------------------------------------
  { name: 'POST creates in-order keys', steps: [post('/K/q', { value: 'a' }), post('/K/q', { value: 'b' }), get('/K/q?sorted=true')] },
  { name: 'POST a directory in order', steps: [post('/K/q', { dir: 'true' }), get('/K/q?recursive=true&sorted=true')] },
  { name: 'POST under a file (104)', steps: [put('/K/f', { value: '1' }), post('/K/f', { value: 'x' })] },
  { name: 'POST with a ttl', steps: [post('/K/q', { value: 'a', ttl: '100' }), get('/K/q?sorted=true')] },

  // --- hidden keys ----------------------------------------------------------------------
  { name: 'hidden keys are not listed', steps: [put('/K/h/_secret', { value: '1' }), put('/K/h/shown', { value: '2' }), get('/K/h?sorted=true'), get('/K/h/_secret')] },
  { name: 'hidden dirs are not listed recursively', steps: [put('/K/h/_d/x', { value: '1' }), put('/K/h/v', { value: '2' }), get('/K/h?recursive=true&sorted=true')] },

  // --- TTL ------------------------------------------------------------------------------
  { name: 'set with ttl', steps: [put('/K/t', { value: '1', ttl: '100' }), get('/K/t')] },
  { name: 'remove a ttl with empty ttl', steps: [put('/K/t', { value: '1', ttl: '100' }), put('/K/t', { value: '1', ttl: '', prevExist: 'true' }), get('/K/t')] },
  { name: 'invalid ttl (202)', steps: [put('/K/t', { value: '1', ttl: 'abc' }), put('/K/t', { value: '1', ttl: '-5' }), put('/K/t', { value: '1', ttl: '1.5' })] },
  { name: 'a key expires', steps: [put('/K/t', { value: '1', ttl: '1' }), get('/K/t', { sleepMs: 2600 })] },
  { name: 'a dir with ttl expires with its children', steps: [put('/K/d', { dir: 'true', ttl: '1' }), put('/K/d/x', { value: '1' }), get('/K/d/x', { sleepMs: 2600 }), get('/K/d')] },
  { name: 'refresh keeps the value', steps: [put('/K/r', { value: 'keep', ttl: '100' }), put('/K/r?refresh=true', { ttl: '200', prevExist: 'true' }), get('/K/r')] },
  { name: 'refresh with a value (211)', steps: [put('/K/r', { value: 'keep', ttl: '100' }), put('/K/r?refresh=true', { ttl: '200', value: 'new' })] },
  { name: 'refresh without ttl (212)', steps: [put('/K/r', { value: 'keep', ttl: '100' }), put('/K/r?refresh=true', {})] },
  { name: 'refresh a missing key', steps: [put('/K/missing?refresh=true', { ttl: '5' })] },
  { name: 'refresh through set', steps: [put('/K/r', { value: 'keep', ttl: '100' }), put('/K/r?refresh=true', { ttl: '300' }), get('/K/r')] },

  // --- noValueOnSuccess -------------------------------------------------------------------
  { name: 'noValueOnSuccess on set and cas', steps: [put('/K/n?noValueOnSuccess=true', { value: '1' }), put('/K/n?noValueOnSuccess=true', { value: '2', prevValue: '1' }), get('/K/n?noValueOnSuccess=true')] },
  { name: 'noValueOnSuccess on delete keeps the body', steps: [put('/K/n', { value: '1' }), del('/K/n?noValueOnSuccess=true')] },

  // --- watches ----------------------------------------------------------------------------
  { name: 'wait for the next change', steps: [get('/K/w?wait=true', { background: 'w' }), put('/K/w', { value: '1' }, { sleepMs: 300 }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'recursive wait sees a child', steps: [get('/K/w?wait=true&recursive=true', { background: 'w' }), put('/K/w/a/b', { value: '1' }, { sleepMs: 300 }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'non-recursive wait ignores a child', steps: [get('/K/w?wait=true', { background: 'w' }), put('/K/w/child', { value: '1' }, { sleepMs: 300 }), put('/K/w2', { value: '1' }), del('/K/w?recursive=true', { sleepMs: 100 }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'waitIndex in history', steps: [put('/K/h', { value: '1' }, { capture: 'i' }), put('/K/h', { value: '2' }), get('/K/h?wait=true&waitIndex=${i}')] },
  { name: 'waitIndex recursive in history', steps: [put('/K/h/a', { value: '1' }, { capture: 'i' }), put('/K/h/b', { value: '2' }), get('/K/h?wait=true&recursive=true&waitIndex=${i}')] },
  { name: 'watch a key inside a deleted dir', steps: [put('/K/d/x', { value: '1' }), get('/K/d/x?wait=true', { background: 'w' }), del('/K/d?recursive=true', { sleepMs: 300 }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'watch sees an expiry', steps: [put('/K/t', { value: '1', ttl: '1' }), get('/K/t?wait=true', { background: 'w' }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'hidden child not seen by a recursive watch', steps: [get('/K/w?wait=true&recursive=true', { background: 'w' }), put('/K/w/_hidden', { value: '1' }, { sleepMs: 300 }), put('/K/w/visible', { value: '2' }), { method: 'GET', path: '', await: 'w' }] },
  { name: 'wait on PUT is invalid (209)', steps: [put('/K/w?wait=true', { value: '1' })] },
  { name: 'invalid waitIndex (203)', steps: [get('/K/w?wait=true&waitIndex=abc')] },

  // --- malformed requests -----------------------------------------------------------------
  { name: 'invalid prevIndex (203)', steps: [put('/K/p', { value: '1', prevIndex: 'x' }), put('/K/p', { value: '1', prevIndex: '-1' })] },
  { name: 'invalid booleans (209)', steps: [get('/K/x?recursive=maybe'), get('/K/x?sorted=2'), put('/K/x?dir=yes', {}), get('/K/x?quorum=nah'), put('/K/x', { value: '1', prevExist: 'sure' })] },
  { name: 'Go booleans are accepted', steps: [put('/K/b', { dir: 'T' }), get('/K/b?recursive=1&sorted=TRUE'), del('/K/b?dir=t')] },
  { name: 'unsupported method (405)', steps: [{ method: 'PATCH', path: '/K/x' }] },
  { name: 'form with a non-form content type is ignored', steps: [{ method: 'PUT', path: '/K/j', raw: { body: '{"value":"json"}', type: 'application/json' } }, get('/K/j')] },
  { name: 'quorum read', steps: [put('/K/qr', { value: '1' }), get('/K/qr?quorum=true'), get('/K/missing?quorum=true')] },
];
