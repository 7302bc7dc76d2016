import type { StoreStats } from './types.ts';

export type StatName = Exclude<keyof StoreStats, 'watchers'>;

/** etcd's /v2/stats/store counters (the watchers count comes from the hub). */
export class StoreCounters {
  readonly values: Record<StatName, number> = {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
  };

  inc(name: StatName): void {
    this.values[name]++;
  }

  snapshot(watchers: number): StoreStats {
    return { ...this.values, watchers };
  }
}
