/**
 * The event loop: Docker events -> bridge. Each session subscribes to the event stream FIRST and
 * buffers, then lists and resyncs, then works through the buffer, so no event falls between
 * the list and the stream. When the stream ends (dockerd restarts, socket cut) it reconnects
 * with back-off (p-retry) and resyncs again. Work is serial: one event or resync at a time.
 */
import type Dockerode from 'dockerode';
import pRetry from 'p-retry';
import { silentLogger, type Logger } from '../lib/log.ts';
import type { Bridge } from './bridge.ts';
import { toContainerView } from './container-view.ts';
import { containerIdOf, effectOf, EventLineParser, isStopSignal, type DockerEvent } from './docker-events.ts';
import { WorkQueue } from './work-queue.ts';

/** Event loop settings (from the command line). */
export interface EventLoopOptions {
  readonly cleanup: boolean;
  /** --resync seconds; 0 = only at start and after reconnects. */
  readonly resyncSeconds: number;
  /** --ttl-refresh seconds; 0 = entries are not refreshed. */
  readonly ttlRefreshSeconds: number;
  /** --deregister: on `die`, remove always or only after exit code 0 (else let the TTL expire it). */
  readonly deregister: 'always' | 'on-success';
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly logger?: Logger;
}

type Work = { kind: 'event'; event: DockerEvent } | { kind: 'resync' } | { kind: 'end'; reason: string };

interface Session {
  queue: WorkQueue<Work>;
  stream: NodeJS.ReadableStream & { destroy?: () => void };
}

export class EventLoop {
  private readonly log: Logger;

  constructor(
    private readonly docker: Dockerode,
    private readonly bridge: Bridge,
    private readonly opts: EventLoopOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Runs until `signal` aborts; never ends on Docker errors (it reconnects). */
  async run(signal: AbortSignal): Promise<void> {
    const refresh = this.opts.ttlRefreshSeconds > 0 ? setInterval(() => this.bridge.refreshAll(), this.opts.ttlRefreshSeconds * 1000) : undefined;
    try {
      while (!signal.aborted) {
        const session = await pRetry(() => this.connect(signal), {
          retries: Number.POSITIVE_INFINITY,
          minTimeout: this.opts.reconnectMinMs ?? 200,
          maxTimeout: this.opts.reconnectMaxMs ?? 5000,
          signal,
          shouldRetry: () => !signal.aborted,
          onFailedAttempt: ({ error, attemptNumber }) => this.log.warn({ attempt: attemptNumber, err: error.message }, 'docker unreachable; retrying'),
        }).catch((e: unknown) => {
          if (signal.aborted) return undefined;
          throw e;
        });
        if (!session) return;
        await this.serve(session, signal);
        session.stream.destroy?.();
      }
    } finally {
      if (refresh) clearInterval(refresh);
    }
  }

  /** Subscribe, then list and resync. */
  private async connect(signal: AbortSignal): Promise<Session> {
    const queue = new WorkQueue<Work>();
    const stream = (await this.docker.getEvents({ filters: { type: ['container', 'network'] } })) as Session['stream'];
    const parser = new EventLineParser((event) => queue.push({ kind: 'event', event }));
    stream.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (e) {
        queue.push({ kind: 'end', reason: `bad event JSON: ${(e as Error).message}` });
      }
    });
    stream.on('end', () => queue.push({ kind: 'end', reason: 'event stream ended' }));
    stream.on('close', () => queue.push({ kind: 'end', reason: 'event stream closed' }));
    stream.on('error', (e: Error) => queue.push({ kind: 'end', reason: e.message }));
    try {
      if (signal.aborted) throw new Error('stopped');
      await this.resync();
    } catch (e) {
      stream.destroy?.();
      throw e;
    }
    this.log.info({ buffered: queue.length }, 'following docker events');
    return { queue, stream };
  }

  /** Lists running containers and reconciles the registry with them. */
  private async resync(): Promise<void> {
    const list = await this.docker.listContainers();
    const views = [];
    for (const c of list) {
      try {
        views.push(toContainerView(await this.docker.getContainer(c.Id).inspect()));
      } catch (e) {
        // Gone between list and inspect: its destroy event follows.
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
    }
    await this.bridge.sync(views, this.opts.cleanup);
    this.log.info({ containers: views.length, registered: this.bridge.registeredServices().length }, 'resynced');
  }

  private async serve(session: Session, signal: AbortSignal): Promise<void> {
    const timer = this.opts.resyncSeconds > 0 ? setInterval(() => session.queue.push({ kind: 'resync' }), this.opts.resyncSeconds * 1000) : undefined;
    try {
      for (;;) {
        const work = await session.queue.next(signal);
        if (work === undefined) return;
        if (work.kind === 'end') {
          this.log.warn({ reason: work.reason }, 'lost the docker event stream; reconnecting');
          return;
        }
        try {
          if (work.kind === 'resync') await this.resync();
          else await this.handle(work.event);
        } catch (e) {
          // Docker failing mid-session: the stream ends too; a fresh session resyncs.
          this.log.warn({ err: (e as Error).message }, 'docker request failed; reconnecting');
          return;
        }
      }
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  private async handle(event: DockerEvent): Promise<void> {
    const id = containerIdOf(event);
    if (id === '') return;
    switch (effectOf(event)) {
      case 'inspect':
        try {
          this.bridge.add(toContainerView(await this.docker.getContainer(id).inspect()));
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 404) throw e;
          this.bridge.remove(id, 'container gone');
        }
        return;
      case 'remove':
        return this.bridge.remove(id, event.Action);
      case 'check-stop-signal': {
        const info = await this.docker.getContainer(id).inspect().catch(() => undefined);
        // StopSignal is in the engine's answer but missing from @types/dockerode.
        const stopSignal = (info?.Config as { StopSignal?: string } | undefined)?.StopSignal;
        if (isStopSignal(event.Actor.Attributes.signal ?? '', stopSignal)) this.bridge.remove(id, 'kill with the stop signal');
        return;
      }
      case 'exit': {
        const exitCode = Number(event.Actor.Attributes.exitCode ?? '0');
        if (this.opts.deregister === 'always' || exitCode === 0) return this.bridge.remove(id, `exited ${exitCode}`);
        return this.bridge.forget(id, `exited ${exitCode}`);
      }
      case 'ignore':
        return;
    }
  }
}
