import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demuxDockerLog } from './berth-cluster.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

test('demuxDockerLog joins stdout and stderr frames and passes TTY logs through', () => {
  const framed = Buffer.concat([frame(1, '{"msg":"a"}\n'), frame(2, 'warning\n'), frame(1, '{"msg":"b"}\n')]);
  assert.equal(demuxDockerLog(framed), '{"msg":"a"}\nwarning\n{"msg":"b"}\n');
  assert.equal(demuxDockerLog(Buffer.from('plain tty output\n')), 'plain tty output\n');
  assert.equal(demuxDockerLog(Buffer.alloc(0)), '');
});
