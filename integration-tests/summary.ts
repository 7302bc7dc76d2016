import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const OUT = resolve(import.meta.dirname, '../test-output');
const ROWS = join(OUT, 'integration');

/** One scenario's line in test-output/integration-summary.md. */
export interface ScenarioRow {
  scenario: string;
  seed: number | null;
  faults: string[];
  operations: number;
  violations: number;
  lostWrites: number;
  /** Free text: recovery times and other measurements. */
  notes: string;
}

/** Markdown table cell text: a pipe would end the cell. */
function cell(s: string | number): string {
  return String(s).replace(/\|/g, '\\|');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * Records a scenario's outcome and rewrites the summary table from every recorded row. Each
 * test file runs in its own process, so rows go to one JSON file per scenario first; a scenario
 * run again replaces its row.
 */
export function recordScenario(row: ScenarioRow): string {
  mkdirSync(ROWS, { recursive: true });
  writeFileSync(join(ROWS, `${slug(row.scenario)}.json`), JSON.stringify({ ...row, at: new Date().toISOString() }));
  const rows = readdirSync(ROWS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(ROWS, f), 'utf8')) as ScenarioRow & { at: string });
  const lines = [
    '# berth integration scenarios',
    '',
    'Written by the tests in integration-tests/ (one row per scenario, the latest run of each).',
    'Rerun a randomized schedule with `SEED=<seed> npm test -- integration-tests`.',
    '',
    '| scenario | seed | faults injected | operations | violations | lost writes | notes | run at |',
    '|---|---|---|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${[r.scenario, r.seed ?? '-', r.faults.join(', ') || '-', r.operations, r.violations, r.lostWrites, r.notes, r.at].map(cell).join(' | ')} |`),
    '',
  ];
  const file = join(OUT, 'integration-summary.md');
  writeFileSync(file, lines.join('\n'));
  return file;
}
