import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTemplate, createTemplateEngine } from './template-helpers.ts';

const keys = new Map([
  ['/services/web/b', '10.0.0.3:80'],
  ['/services/web/a', '10.0.0.2:80'],
  ['/services/web/_meta/a', '{"tags":["blue"],"attrs":{"zone":"z1"}}'],
  ['/services/web/_meta/b', '{"tags":["green","blue"],"attrs":{"zone":"z2"}}'],
  ['/services/api/x', '10.0.1.1:8080'],
  ['/config/limits', '{"rps":50}'],
  ['/config/name', 'edge'],
]);
const render = (src: string) => compileTemplate(createTemplateEngine(), src)(keys);

test('service lists upstreams sorted by id, filters by tag, and {{else}} covers empty lists', () => {
  assert.equal(render('{{#each (service "web")}}{{address}};{{/each}}'), '10.0.0.2:80;10.0.0.3:80;');
  assert.equal(render('{{#each (service "web" tag="green")}}{{address}}{{/each}}'), '10.0.0.3:80');
  assert.equal(render('{{#each (service "nope")}}x{{else}}none{{/each}}'), 'none');
});

test('services, byTag, groupBy and sort', () => {
  assert.equal(render('{{#each (services)}}{{name}}={{len upstreams}} {{/each}}'), 'api=1 web=2 ');
  assert.equal(render('{{#each (byTag (service "web"))}}{{tag}}:{{#each upstreams}}{{id}}{{/each}} {{/each}}'), 'blue:ab green:b ');
  assert.equal(render('{{#each (groupBy (service "web") "attrs.zone")}}{{key}}={{len items}} {{/each}}'), 'z1=1 z2=1 ');
  assert.equal(render('{{#each (sort (service "web") "id" "desc")}}{{id}}{{/each}}'), 'ba');
});

test('get, exists, json, ls, tree, default', () => {
  assert.equal(render('{{get "/config/name"}} {{get "/config/missing" "fallback"}} {{default (get "/nope") "d"}}'), 'edge fallback d');
  assert.equal(render('{{#if (exists "/config/name")}}y{{/if}}{{#unless (exists "/x")}}n{{/unless}}'), 'yn');
  assert.equal(render('{{#with (json "/config/limits")}}{{rps}}{{/with}}'), '50');
  assert.equal(render('{{#each (ls "/config")}}{{name}}{{/each}}'), 'limitsname');
  assert.equal(render('{{#each (tree "/services")}}{{name}},{{/each}}'), 'api/x,web/a,web/b,');
});
