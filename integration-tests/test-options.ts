import type { BerthClusterOptions } from './berth-cluster.ts';

/** Every Docker name this suite creates starts with this (the containers, networks and image). */
export const TEST_PREFIX = 'berth-it-';

/** Cluster options shared by the suite's tests: prefixed names, a prefixed image, quiet members. */
export const TEST_CLUSTER_OPTIONS: BerthClusterOptions = {
  namePrefix: TEST_PREFIX,
  imageRepo: `${TEST_PREFIX}berth`,
  logLevel: 'warn',
  removeOrphans: true,
};
