import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { compileTemplate, createTemplateEngine } from './template-helpers.ts';

const dir = resolve(import.meta.dirname, '../templates');
const keys = new Map([
  ['/services/web/h1:web1:80', '10.0.0.2:80'],
  ['/services/web/_meta/h1:web1:80', '{"tags":["blue"]}'],
  ['/services/api/v1/h2:api:8080', '10.0.0.9:8080'],
]);

test('every shipped template compiles and renders, with services and with none', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.hbs'));
  assert.ok(files.length >= 4, files.join(', '));
  const hb = createTemplateEngine();
  for (const f of files) {
    const render = compileTemplate(hb, await readFile(join(dir, f), 'utf8'));
    const full = render(keys);
    assert.match(full, /10\.0\.0\.2:80/, f);
    render(new Map());
  }
});

test('services.json.hbs renders valid JSON', async () => {
  const render = compileTemplate(createTemplateEngine(), await readFile(join(dir, 'services.json.hbs'), 'utf8'));
  assert.deepEqual(JSON.parse(render(keys)), {
    'api/v1': [{ id: 'h2:api:8080', address: '10.0.0.9:8080', tags: [] }],
    web: [{ id: 'h1:web1:80', address: '10.0.0.2:80', tags: ['blue'] }],
  });
  assert.deepEqual(JSON.parse(render(new Map())), {});
});
