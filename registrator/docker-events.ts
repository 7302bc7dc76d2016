/** The Docker event stream as parsed objects (newline-delimited JSON, split anywhere by TCP). */
import { constants } from 'node:os';

/** A container event as the engine reports it. */
export interface DockerEvent {
  readonly Type: string;
  /** "start", "die", "kill", "health_status: healthy", ... */
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
  readonly time: number;
}

/** Feeds raw chunks; calls `onEvent` for every complete JSON line. */
export class EventLineParser {
  private buffer = '';
  constructor(private readonly onEvent: (e: DockerEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += chunk.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onEvent(JSON.parse(line) as DockerEvent);
    }
  }
}

/** What an event means for registration. */
export type EventEffect = 'inspect' | 'remove' | 'exit' | 'ignore' | 'check-stop-signal';

const STOP_SIGNALS = new Set(['15', '9', '2', '3', 'SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT', 'TERM', 'KILL', 'INT', 'QUIT']);

/**
 * start/unpause/health_status/rename and network connect/disconnect: look again (inspect); kill with a stopping signal, stop, pause,
 * destroy: take out now (a stop begins with its kill, so proxies drain in time; a SIGHUP reload
 * also emits kill and must not deregister); kill with another signal: compare it with the
 * container's STOPSIGNAL (apache stops on SIGWINCH); die: the exit rules of --deregister.
 */
export function effectOf(e: DockerEvent): EventEffect {
  // A container joining or leaving a network changes its addresses (--internal, --network).
  if (e.Type === 'network') return e.Action === 'connect' || e.Action === 'disconnect' ? 'inspect' : 'ignore';
  if (e.Type !== 'container') return 'ignore';
  const action = e.Action.split(':')[0]!;
  switch (action) {
    case 'start':
    case 'unpause':
    case 'health_status':
    case 'rename':
      return 'inspect';
    case 'kill':
      return STOP_SIGNALS.has(e.Actor.Attributes.signal ?? '') ? 'remove' : 'check-stop-signal';
    case 'stop':
    case 'pause':
    case 'destroy':
      return 'remove';
    case 'die':
      return 'exit';
    default:
      return 'ignore';
  }
}

function signalNumber(signal: string): number | undefined {
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as keyof typeof constants.signals;
  return constants.signals[name];
}

/** Whether a kill event's signal ("28") is the container's STOPSIGNAL ("SIGWINCH", "WINCH", "28"). */
export function isStopSignal(eventSignal: string, stopSignal: string | undefined): boolean {
  if (!stopSignal) return false;
  const a = signalNumber(eventSignal);
  return a !== undefined && a === signalNumber(stopSignal);
}

/** The container an event is about (network events name it in an attribute). */
export function containerIdOf(e: DockerEvent): string {
  return e.Type === 'network' ? (e.Actor.Attributes.container ?? '') : e.Actor.ID;
}
