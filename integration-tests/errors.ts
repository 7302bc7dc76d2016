import { BerthError } from '../lib/errors.ts';

/** A BerthCluster operation that could not be done (not started, no leader, a member that will not start or join). */
export class BerthClusterError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_CLUSTER', message, options);
  }
}

/** An iptables rule could not be added inside a member's namespace (the host needs root, nsenter and iptables). */
export class NetworkCutError extends BerthError {
  constructor(message: string) {
    super('BERTH_NETWORK_CUT', message);
  }
}

/** Building the image failed (tar or docker import). */
export class ImageBuildError extends BerthError {
  constructor(message: string) {
    super('BERTH_IMAGE_BUILD', message);
  }
}
