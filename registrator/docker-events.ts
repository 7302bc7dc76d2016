/** The Docker event stream as parsed objects (newline-delimited JSON, split anywhere by TCP). */

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
export type EventEffect = 'inspect' | 'remove' | 'exit' | 'ignore';

const STOP_SIGNALS = new Set(['15', '9', '2', '3', 'SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT', 'TERM', 'KILL', 'INT', 'QUIT']);

/**
 * start/unpause/health_status: look again (inspect); kill with a stopping signal, stop, pause,
 * destroy: take out now (a stop begins with its kill, so proxies drain in time; a SIGHUP reload
 * also emits kill and must not deregister); die: the exit rules of --deregister.
 */
export function effectOf(e: DockerEvent): EventEffect {
  if (e.Type !== 'container') return 'ignore';
  const action = e.Action.split(':')[0]!;
  switch (action) {
    case 'start':
    case 'unpause':
    case 'health_status':
      return 'inspect';
    case 'kill':
      return STOP_SIGNALS.has(e.Actor.Attributes.signal ?? '') ? 'remove' : 'ignore';
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
