/**
 * `node --import tsx proxy-reloader/testing/backend-main.ts N`: N test backends in their own
 * process (so a benchmark's load generator does not share their CPU); prints their addresses
 * as one JSON line and runs until killed.
 */
import { startBackend } from './backends.ts';

const count = Number(process.argv[2] ?? '2');
const backends = await Promise.all(Array.from({ length: count }, (_, i) => startBackend(`backend${i + 1}`)));
process.stdout.write(JSON.stringify(backends.map((b) => b.address)) + '\n');
