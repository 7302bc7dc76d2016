import type { Progress } from '../progress.ts';
import type { BenchSettings, Row } from '../types.ts';
import { interleavedRows, putRow } from './throughput.ts';

/**
 * PUT throughput on a single node as the number of connections grows. Each point is measured
 * like a throughput row: both stores up at once, `rounds` runs interleaved, the median reported.
 */
export async function curveSuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const conns = settings.quick ? [1, 16] : [1, 4, 16, 64, 256, 1024];
  return interleavedRows('connections', 1, conns.map(putRow), settings, progress);
}
