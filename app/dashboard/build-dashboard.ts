/**
 * Builds the dashboard into app/dashboard/dist when it is missing or older than its
 * sources, so `fedsim serve` works from a fresh checkout without a build step to remember.
 *
 *   npm run build:dashboard            (always builds)
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_DIST = join(HERE, 'dist');
/** What the bundle is made of: the dashboard's own files and the report's chart code it inlines. */
const SOURCES = [join(HERE, 'index.html'), join(HERE, 'vite.config.ts'), join(HERE, 'src'), resolve(HERE, '../report/charts.ts')];

let building: Promise<string> | null = null;

export async function ensureDashboardBuilt(options: { force?: boolean } = {}): Promise<string> {
  if (!options.force && !isStale()) return DASHBOARD_DIST;
  // One build per process however many callers ask at once.
  building ??= build().finally(() => (building = null));
  return building;
}

function isStale(): boolean {
  const index = join(DASHBOARD_DIST, 'index.html');
  if (!existsSync(index)) return true;
  return newestMtime(SOURCES) > statSync(index).mtimeMs;
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(path).map((name) => join(path, name))));
  }
  return newest;
}

async function build(): Promise<string> {
  // vite is a development dependency: only needed when there is something to build.
  const vite = await import('vite').catch(() => {
    throw new Error(`the dashboard is not built (${DASHBOARD_DIST}) and vite is not installed to build it: run npm install, then npm run build:dashboard`);
  });
  const { default: config } = await import('./vite.config.js');
  // Built beside the final folder and swapped in, so a server reading dist (this process's or
  // another's) never sees half a build.
  const staging = join(HERE, '..', '..', 'node_modules', '.cache', `fedsim-dashboard-${process.pid}-${Date.now()}`);
  await mkdir(dirname(staging), { recursive: true });
  try {
    await vite.build({ ...config, configFile: false, build: { ...config.build, outDir: staging, emptyOutDir: true } });
    const old = `${DASHBOARD_DIST}.old-${process.pid}`;
    if (existsSync(DASHBOARD_DIST)) await rename(DASHBOARD_DIST, old);
    await rename(staging, DASHBOARD_DIST).catch(async (error: NodeJS.ErrnoException) => {
      // node_modules on another file system (a mounted volume): copy instead.
      if (error.code !== 'EXDEV') throw error;
      await cp(staging, DASHBOARD_DIST, { recursive: true });
    });
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return DASHBOARD_DIST;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = await ensureDashboardBuilt({ force: !process.argv.includes('--if-stale') });
  process.stdout.write(`dashboard built: ${dist}\n`);
}
