import { BerthError } from '../lib/errors.ts';

/** A template file, config file or route that cannot be used as written. */
export class ReloaderConfigError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_CONFIG', message, options);
  }
}

/** A template that Handlebars cannot compile or render. */
export class TemplateError extends BerthError {
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super('BERTH_RELOADER_TEMPLATE', `${source}: ${message}`, options);
  }
}

/** An upstream's answer that is not well-formed HTTP/1.1, or one that could smuggle another. */
export class UpstreamProtocolError extends BerthError {
  constructor(message: string) {
    super('BERTH_UPSTREAM_PROTOCOL', message);
  }
}

/** The upstream closed its connection before its answer ended. */
export class UpstreamClosedError extends BerthError {
  constructor(message: string) {
    super('BERTH_UPSTREAM_CLOSED', message);
  }
}

/** The connection to the upstream was not established in time (nothing of the request reached it). */
export class UpstreamConnectTimeoutError extends BerthError {
  constructor(timeoutMs: number) {
    super('BERTH_UPSTREAM_CONNECT_TIMEOUT', `no connection within ${timeoutMs} ms`);
  }
}

/** The upstream sent nothing for too long while an answer was awaited. */
export class UpstreamTimeoutError extends BerthError {
  constructor(message: string) {
    super('BERTH_UPSTREAM_TIMEOUT', message);
  }
}
