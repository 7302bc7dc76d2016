import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const UI = join(import.meta.dirname, 'ui');

export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
}

let assets: Promise<DashboardAssets> | null = null;

/**
 * The page's static files. The browser code is TypeScript, bundled once per process by esbuild
 * (already a dependency through tsx), so the package ships sources only and the page needs no
 * network beyond the member that serves it.
 */
export function dashboardAssets(): Promise<DashboardAssets> {
  assets ??= (async () => {
    const [html, css, bundled] = await Promise.all([
      readFile(join(UI, 'index.html'), 'utf8'),
      readFile(join(UI, 'style.css'), 'utf8'),
      build({ entryPoints: [join(UI, 'app.ts')], bundle: true, write: false, format: 'iife', target: 'es2022', minify: true, logLevel: 'silent' }),
    ]);
    return { html, css, js: bundled.outputFiles[0]!.text };
  })();
  assets.catch(() => {
    assets = null;
  });
  return assets;
}
