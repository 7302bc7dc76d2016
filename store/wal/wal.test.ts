import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, open, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { silentLogger, type Logger } from '../../lib/log.ts';
import type { Entry } from '../raft/types.ts';
import { WalCorruptError } from './errors.ts';
import { SnapshotFiles } from './snapshot-files.ts';
import { RecordType, decodeRecord, encodeHardState, encodeRecord, endOfRecords } from './record.ts';
import { pack, unpack } from 'msgpackr';
import { Wal } from './wal.ts';

const entry = (index: number, term = 1, text = `e${index}`): Entry => ({ index, term, type: 0, data: new TextEncoder().encode(text) });

async function tempDir(t: { after(f: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-wal-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

function collectingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (_o: object, msg?: string) => warnings.push(msg ?? '') };
}

test('entries and hard state survive a reopen; later records for an index win', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, { hello: 'world' });
  await wal.save({ term: 1, vote: 1, commit: 2 }, [entry(1), entry(2), entry(3)], true);
  await wal.save({ term: 2, vote: 1, commit: 2 }, [entry(3, 2, 'rewritten'), entry(4, 2)], true);
  await wal.close();
  const { log } = await Wal.open(dir, null, { logger: silentLogger });
  assert.deepEqual(log.identity, { clusterId: 'c', memberId: 1 });
  assert.deepEqual(log.bootstrap, { hello: 'world' });
  assert.deepEqual(log.hardState, { term: 2, vote: 1, commit: 2 });
  assert.deepEqual(log.entries.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]), [[1, 1, 'e1'], [2, 1, 'e2'], [3, 2, 'rewritten'], [4, 2, 'e4']]);
  assert.equal(log.repairedBytes, 0);
});

test('group commit: concurrent saves of one Ready each are one fsync per save, not per entry', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  const before = wal.fsyncs;
  await wal.save({ term: 1, vote: 1, commit: 100 }, Array.from({ length: 100 }, (_, i) => entry(i + 1)), true);
  assert.equal(wal.fsyncs - before, 1, '100 entries in one Ready share one fsync');
});

test('a torn tail (garbage, or half a record) is cut off with a warning naming the bytes', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 2 }, [entry(1), entry(2)], true);
  await wal.close();
  const seg = join(dir, (await readdir(dir)).sort().at(-1)!);
  const size = (await stat(seg)).size;
  await appendFile(seg, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  const logger = collectingLogger();
  const { wal: w2, log } = await Wal.open(dir, null, { logger });
  assert.equal(log.repairedBytes, 11);
  assert.match(logger.warnings.join('\n'), /cut 11 bytes/);
  assert.equal((await stat(seg)).size, size);
  assert.equal(log.entries.length, 2);
  // Half of a record whose length says more bytes follow.
  await w2.save(undefined, [entry(3)], true);
  await w2.close();
  const seg2 = join(dir, (await readdir(dir)).sort().at(-1)!);
  const full = await readFile(seg2);
  await writeFile(seg2, full.subarray(0, full.length - 5));
  const { log: l3 } = await Wal.open(dir, null, { logger: collectingLogger() });
  assert.equal(l3.entries.length, 2, 'the torn entry 3 was never acknowledged and is dropped');
});

test('a segment is preallocated; a member killed without closing replays cleanly and the free space is trimmed', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger, segmentBytes: 1 << 20 });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 3 }, [entry(1), entry(2), entry(3)], true);
  const seg = join(dir, wal.segmentNames().at(-1)!);
  assert.equal((await stat(seg)).size, 1 << 20, 'the open segment has its full size from the start');
  // No close(): as after SIGKILL, the zeros after the last record are still there.
  const logger = collectingLogger();
  const { log } = await Wal.open(dir, null, { logger });
  assert.deepEqual(log.entries.map((e) => e.index), [1, 2, 3]);
  assert.equal(log.repairedBytes, 0);
  assert.deepEqual(logger.warnings, [], 'free space is not damage');
  assert.ok((await stat(seg)).size < 4096, 'replay trims the free space');
});

test('a torn record inside preallocated space is cut with a warning that counts only its own bytes', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger, segmentBytes: 1 << 20 });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 2 }, [entry(1), entry(2)], true);
  const seg = join(dir, wal.segmentNames().at(-1)!);
  const buf = await readFile(seg);
  const used = endOfRecords(buf);
  // A write of 7 bytes (say the head of the next record) reached the disk before the crash.
  buf.set([200, 0, 0, 0, 9, 9, 9], used);
  await writeFile(seg, buf);
  const logger = collectingLogger();
  const { log } = await Wal.open(dir, null, { logger });
  assert.equal(log.repairedBytes, 7);
  assert.match(logger.warnings.join('\n'), /cut 7 bytes/);
  assert.deepEqual(log.entries.map((e) => e.index), [1, 2]);
  assert.equal((await stat(seg)).size, used);
});

test('a corrupt record followed by valid ones is an error that names the file, not silent loss', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 3 }, [entry(1, 1, 'a'.repeat(50)), entry(2, 1, 'b'.repeat(50)), entry(3, 1, 'c'.repeat(50))], true);
  await wal.close();
  const seg = join(dir, (await readdir(dir)).sort().at(-1)!);
  const buf = await readFile(seg);
  const at = buf.indexOf(Buffer.from('b'.repeat(50)));
  buf[at + 10] ^= 0xff;
  await writeFile(seg, buf);
  await assert.rejects(Wal.open(dir, null, { logger: silentLogger }), (e: unknown) => e instanceof WalCorruptError && /\.wal: corrupt record at byte \d+/.test((e as Error).message));
});

test('segments roll over and a snapshot lets old ones go', async (t) => {
  const dir = await tempDir(t);
  const snaps = new SnapshotFiles(join(dir, 'snap'), silentLogger);
  const { wal } = await Wal.open(join(dir, 'wal'), null, { logger: silentLogger, segmentBytes: 2048 });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  for (let i = 1; i <= 200; i++) await wal.save({ term: 1, vote: 1, commit: i }, [entry(i, 1, 'x'.repeat(40))], false);
  const many = wal.segmentNames().length;
  assert.ok(many > 3, `expected rollover, got ${many} segments`);
  const snap = { metadata: { index: 150, term: 1, confState: { voters: [1], learners: [] } }, data: new TextEncoder().encode('state@150') };
  await snaps.save(snap);
  await wal.markSnapshot(150, 1);
  assert.ok(wal.segmentNames().length < many);
  await wal.close();
  const loaded = await snaps.loadNewest();
  assert.equal(new TextDecoder().decode(loaded!.data), 'state@150');
  const { log } = await Wal.open(join(dir, 'wal'), loaded, { logger: silentLogger });
  assert.equal(log.entries[0]!.index, 151);
  assert.equal(log.entries.at(-1)!.index, 200);
});

test('a snapshot mark is one record in the open segment: no new segment, and replay still checks it', async (t) => {
  const dir = await tempDir(t);
  const snaps = new SnapshotFiles(join(dir, 'snap'), silentLogger);
  const { wal } = await Wal.open(join(dir, 'wal'), null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 10 }, Array.from({ length: 10 }, (_, i) => entry(i + 1)), true);
  const segments = wal.segmentNames();
  const snap = { metadata: { index: 5, term: 1, confState: { voters: [1], learners: [] } }, data: new TextEncoder().encode('state@5') };
  const snapFile = await snaps.save(snap);
  await wal.markSnapshot(5, 1);
  assert.deepEqual(wal.segmentNames(), segments);
  // The mark reaches the disk with the next synced save.
  await wal.save({ term: 1, vote: 1, commit: 12 }, [entry(11), entry(12)], true);
  const { log } = await Wal.open(join(dir, 'wal'), await snaps.loadNewest(), { logger: silentLogger });
  assert.deepEqual(log.entries.map((e) => e.index), [6, 7, 8, 9, 10, 11, 12]);
  // Without the snapshot file the marked WAL refuses to replay rather than serve a hole.
  await rm(snapFile);
  await assert.rejects(Wal.open(join(dir, 'wal'), null, { logger: silentLogger }), (e: unknown) => e instanceof WalCorruptError && /marks a snapshot at index 5/.test((e as Error).message));
  await wal.close();
});

test('a snapshot file is its CRC-32, then the msgpack of { metadata, data } as msgpackr reads it', async (t) => {
  const dir = await tempDir(t);
  const snaps = new SnapshotFiles(dir, silentLogger);
  for (const size of [0, 3, 300, 70_000, 9_000_000]) {
    const data = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
    const metadata = { index: 100 + size, term: 2, confState: { voters: [1, 2, 3], learners: [4] } };
    const file = await snaps.save({ metadata, data });
    const buf = await readFile(file);
    assert.equal(buf.readUInt32LE(0), crc32(buf.subarray(4)), `crc of a ${size} B state`);
    const body = unpack(buf.subarray(4)) as { metadata: unknown; data: Uint8Array };
    assert.deepEqual(body.metadata, metadata);
    assert.deepEqual(new Uint8Array(body.data), data);
    assert.deepEqual(Object.keys(body), ['metadata', 'data']);
    const loaded = await snaps.loadNewest();
    assert.deepEqual(loaded, { metadata, data });
  }
});

test('a damaged snapshot file falls back to the previous one', async (t) => {
  const dir = await tempDir(t);
  const snaps = new SnapshotFiles(dir, silentLogger);
  await snaps.save({ metadata: { index: 10, term: 1, confState: { voters: [1], learners: [] } }, data: new TextEncoder().encode('ten') });
  const newest = await snaps.save({ metadata: { index: 20, term: 1, confState: { voters: [1], learners: [] } }, data: new TextEncoder().encode('twenty') });
  const buf = await readFile(newest);
  buf[buf.length - 1] ^= 0xff;
  await writeFile(newest, buf);
  const loaded = await snaps.loadNewest();
  assert.equal(loaded?.metadata.index, 10);
});

test('a synced save makes the unsynced records before it durable too: it writes them again', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger, segmentBytes: 1 << 20 });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, null);
  const segment = join(dir, wal.segmentNames()[0]!);
  const recordsEnd = async () => endOfRecords(await readFile(segment));
  const fsyncsBefore = wal.fsyncs;
  for (let i = 1; i <= 30; i++) {
    await wal.save({ term: 1, vote: 1, commit: i - 1 }, [entry(i)], true);
    const durableEnd = await recordsEnd();
    await wal.save({ term: 1, vote: 1, commit: i }, [], false);
    if (i % 3 === 0) await wal.save({ term: 1, vote: 1, commit: i }, [], false);
    // As if the machine lost power before those unsynced pages reached the disk: zeros.
    const lost = (await recordsEnd()) - durableEnd;
    const fh = await open(segment, 'r+');
    await fh.write(Buffer.alloc(lost), 0, lost, durableEnd);
    await fh.close();
  }
  await wal.save({ term: 1, vote: 1, commit: 30 }, [entry(31)], true);
  assert.equal(wal.fsyncs - fsyncsBefore, 31, 'one durable write per synced save, no extra fdatasync');
  await wal.close();
  const { log } = await Wal.open(dir, null, { logger: silentLogger });
  assert.deepEqual(log.entries.map((e) => e.index), Array.from({ length: 31 }, (_, i) => i + 1));
  assert.deepEqual(log.hardState, { term: 1, vote: 1, commit: 30 });
  assert.equal(log.repairedBytes, 0);
});

/** A closed WAL holding entry 1, and its segment's path, for a test to append records to. */
async function closedWalOfOneEntry(t: { after(f: () => Promise<void>): void }): Promise<{ dir: string; seg: string }> {
  const dir = await tempDir(t);
  const { wal } = await Wal.open(dir, null, { logger: silentLogger });
  await wal.bootstrap({ clusterId: 'c', memberId: 1 }, {});
  await wal.save({ term: 1, vote: 1, commit: 1 }, [entry(1)], true);
  await wal.close();
  return { dir, seg: join(dir, (await readdir(dir)).sort().at(-1)!) };
}

// Data dirs written before BinaryEntry hold msgpack entry records; an upgraded member must replay
// them, and what it then writes after them, as one log.
test('entry records in msgpack (berth before 2026-11) replay alongside binary ones', async (t) => {
  const { dir, seg } = await closedWalOfOneEntry(t);
  const msgpackEntry = (e: Entry) => encodeRecord(RecordType.Entry, pack({ t: e.term, i: e.index, y: e.type, d: Buffer.from(e.data) }));
  await appendFile(seg, Buffer.concat([msgpackEntry(entry(2)), msgpackEntry(entry(3, 2, 'old layout'))]));
  const { wal: w2, log } = await Wal.open(dir, null, { logger: silentLogger });
  assert.deepEqual(log.entries.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]), [[1, 1, 'e1'], [2, 1, 'e2'], [3, 2, 'old layout']]);
  await w2.save({ term: 2, vote: 1, commit: 3 }, [entry(3, 2, 'rewritten'), entry(4, 2, '')], true);
  await w2.close();
  const { log: again } = await Wal.open(dir, null, { logger: silentLogger });
  assert.deepEqual(again.entries.map((e) => [e.index, e.term, e.type, new TextDecoder().decode(e.data)]), [[1, 1, 0, 'e1'], [2, 1, 0, 'e2'], [3, 2, 0, 'rewritten'], [4, 2, 0, '']]);
  assert.deepEqual(again.hardState, { term: 2, vote: 1, commit: 3 });
});

test('a record of a type this version does not know stops replay instead of being skipped', async (t) => {
  const { dir, seg } = await closedWalOfOneEntry(t);
  await appendFile(seg, encodeRecord(42 as RecordType, Buffer.from('from the future')));
  await assert.rejects(Wal.open(dir, null, { logger: silentLogger }), (e: unknown) => e instanceof WalCorruptError && /unknown type 42/.test(e.message));
});

test('a hard state record is the msgpack of {t, v, c} as msgpackr reads it, for numbers of every width', () => {
  const widths = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, 2 ** 53 - 1];
  for (const term of widths) {
    for (const vote of widths) {
      for (const commit of [0, 0x80, 0x10000, 0x100000000]) {
        const rec = decodeRecord(encodeHardState({ term, vote, commit }), 0);
        assert.ok(rec.ok && rec.type === RecordType.HardState);
        assert.deepEqual(unpack(rec.payload), { t: term, v: vote, c: commit });
      }
    }
  }
});
