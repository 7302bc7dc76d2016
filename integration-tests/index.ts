/**
 * The public surface of integration-tests/: a throwaway berth cluster in containers for users'
 * own test suites (see README.md), and the image builder it uses.
 */
export { BerthCluster, demuxDockerLog, type BerthClusterOptions, type BerthMember } from './berth-cluster.ts';
export { ensureBerthImage, sourceHash, IMAGE_REPO, IMAGE_TAG, type BerthImageOptions } from './image/build-image.ts';
export { BerthClusterError, ImageBuildError, NetworkCutError } from './errors.ts';
