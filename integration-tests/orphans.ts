import Dockerode from 'dockerode';

/** Label on every member container: the PID of the process that started it. */
export const OWNER_PID_LABEL = 'dev.berth.owner-pid';
/** A prefixed network with no containers is an orphan once it is this old (a live one gets its members within seconds). */
const EMPTY_NETWORK_GRACE_MS = 120_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what an earlier run that died without cleaning up (a killed test runner) left behind:
 * containers named `prefix*` whose owner process is gone, then `prefix*` networks that have
 * been empty long enough. Only names with the caller's prefix are touched. Returns the count.
 */
export async function removeOrphans(prefix: string, docker = new Dockerode()): Promise<number> {
  let removed = 0;
  const containers = await docker.listContainers({ all: true, filters: { name: [prefix], label: [OWNER_PID_LABEL] } });
  for (const c of containers) {
    if (!c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix))) continue;
    const owner = Number(c.Labels[OWNER_PID_LABEL]);
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
    removed++;
  }
  const networks = await docker.listNetworks({ filters: { name: [prefix] } });
  for (const n of networks) {
    if (!n.Name.startsWith(prefix)) continue;
    const info = (await docker.getNetwork(n.Id).inspect()) as { Containers?: Record<string, unknown>; Created: string };
    const empty = Object.keys(info.Containers ?? {}).length === 0;
    if (!empty || Date.now() - Date.parse(info.Created) < EMPTY_NETWORK_GRACE_MS) continue;
    await docker.getNetwork(n.Id).remove().catch(() => {});
    removed++;
  }
  return removed;
}
