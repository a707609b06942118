/**
 * `npm install` on a clean machine (as README's quick start, .ci/run and the images run it) is
 * warning-free on the Node versions package.json promises.
 *
 * Three packages' latest majors ask for Node 22 only because they became ESM-only
 * (@nats-io/nuid 3, content-disposition 3, cookie 2): package.json's `overrides` give their
 * parents the previous majors, which export the same functions (nuid.next, create,
 * stringifySetCookie) and accept Node 18 on. npm 11 lists every dependency whose install script is
 * not covered by `allowScripts`: esbuild's (it checks its platform binary) and the optional native
 * tfjs backends' (they download libtensorflow) are allowed, core-js's (a donation banner) is
 * denied. Entries are package names without versions: this machine's npm writes locks without
 * resolved URLs, and npm refuses a version-pinned approval it cannot verify against one.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface PackageJson {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
}
interface LockEntry {
  name?: string;
  hasInstallScript?: boolean;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** The installed packages (the project itself included) whose engines.node refuses `version`. */
function refusingNode(version: string): string[] {
  const selector = `:attr(engines, [node]):not(:semver(${version}, :attr(engines, [node])))`;
  const out = execFileSync('npm', ['query', selector], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const nodes = JSON.parse(out) as { name: string; version: string; engines: { node: string } }[];
  return nodes.map((n) => `${n.name}@${n.version} wants node ${n.engines.node}`);
}

/** The package name of a lock entry's path (node_modules/a/node_modules/@s/b → @s/b). */
function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

describe('npm install', () => {
  it('installs nothing that refuses the oldest Node package.json accepts', () => {
    const floor = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(floor, `engines.node "${pkg.engines.node}": expected >=X.Y.Z`).toBeDefined();
    expect(refusingNode(floor!)).toEqual([]);
  });

  it('installs nothing that refuses the Node running this test', () => {
    expect(refusingNode(process.versions.node)).toEqual([]);
  });

  it('reviews every install script in allowScripts, by name, and names nothing else', () => {
    const withScripts = [
      ...new Set(
        Object.entries(lock.packages)
          .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
          .map(([path]) => packageName(path)),
      ),
    ].sort();
    const reviewed = Object.keys(pkg.allowScripts ?? {}).sort();
    expect(reviewed).toEqual(withScripts);
    expect(pkg.allowScripts).toMatchObject({ esbuild: true, 'core-js': false });
  });
});
