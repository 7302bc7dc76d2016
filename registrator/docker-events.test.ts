import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerIdOf, effectOf, EventLineParser, isStopSignal, type DockerEvent } from './docker-events.ts';

function ev(Action: string, Attributes: Record<string, string> = {}, Type = 'container'): DockerEvent {
  return { Type, Action, Actor: { ID: 'c1', Attributes }, time: 0 };
}

test('events split anywhere across chunks are parsed whole, in order', () => {
  const seen: string[] = [];
  const parser = new EventLineParser((e) => seen.push(e.Action));
  const text = JSON.stringify(ev('start')) + '\n' + JSON.stringify(ev('die', { exitCode: '0' })) + '\n';
  for (let i = 0; i < text.length; i += 7) parser.push(text.slice(i, i + 7));
  assert.deepEqual(seen, ['start', 'die']);
});

test('a stop begins with kill: stopping signals deregister, a SIGHUP reload does not', () => {
  assert.equal(effectOf(ev('kill', { signal: '15' })), 'remove');
  assert.equal(effectOf(ev('kill', { signal: 'SIGKILL' })), 'remove');
  assert.equal(effectOf(ev('kill', { signal: '1' })), 'check-stop-signal');
  assert.equal(effectOf(ev('stop')), 'remove');
  assert.equal(effectOf(ev('pause')), 'remove');
  assert.equal(effectOf(ev('destroy')), 'remove');
});

test('start, unpause and health changes look again; die follows --deregister; other types are ignored', () => {
  assert.equal(effectOf(ev('start')), 'inspect');
  assert.equal(effectOf(ev('unpause')), 'inspect');
  assert.equal(effectOf(ev('health_status: unhealthy')), 'inspect');
  assert.equal(effectOf(ev('die', { exitCode: '1' })), 'exit');
  assert.equal(effectOf(ev('exec_start: sh')), 'ignore');
  assert.equal(effectOf(ev('start', {}, 'network')), 'ignore');
});

test('a kill with the container\'s own STOPSIGNAL is a stop, whatever its spelling', () => {
  assert.equal(isStopSignal('28', 'SIGWINCH'), true);
  assert.equal(isStopSignal('28', 'WINCH'), true);
  assert.equal(isStopSignal('28', '28'), true);
  assert.equal(isStopSignal('1', 'SIGWINCH'), false, 'a SIGHUP reload is not a stop');
  assert.equal(isStopSignal('1', undefined), false);
  assert.equal(isStopSignal('1', 'NOPE'), false);
});

test('rename and network connect/disconnect look again, at the container the event names', () => {
  assert.equal(effectOf(ev('rename', { oldName: '/a' })), 'inspect');
  const connect = { Type: 'network', Action: 'connect', Actor: { ID: 'net1', Attributes: { container: 'c9', name: 'backend' } }, time: 0 };
  assert.equal(effectOf(connect), 'inspect');
  assert.equal(containerIdOf(connect), 'c9');
  assert.equal(containerIdOf(ev('start')), 'c1');
  assert.equal(effectOf({ ...connect, Action: 'create' }), 'ignore');
});
