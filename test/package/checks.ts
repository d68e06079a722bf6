/** Checks on the extracted tarball: source maps that resolve, README links that resolve. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { PackedPackage } from './tarball.js';
import { REPO } from './tarball.js';

/** Each source map problem: a .js whose map is missing, or a map source neither shipped nor embedded. */
export function sourceMapProblems(pkg: PackedPackage): { maps: number; problems: string[] } {
  const problems: string[] = [];
  let maps = 0;
  for (const file of pkg.files.filter((f) => f.endsWith('.js'))) {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(pkg.dir, file), 'utf8'))?.[1];
    if (!url) continue;
    const mapFile = posix.join(posix.dirname(file), url);
    if (!pkg.files.includes(mapFile)) {
      problems.push(`${file}: its map ${mapFile} is not in the tarball`);
      continue;
    }
    maps++;
    const map = JSON.parse(readFileSync(join(pkg.dir, mapFile), 'utf8')) as {
      sources: string[];
      sourcesContent?: (string | null)[];
      sourceRoot?: string;
    };
    map.sources.forEach((source, i) => {
      const shipped = pkg.files.includes(posix.normalize(posix.join(posix.dirname(mapFile), map.sourceRoot ?? '', source)));
      const embedded = typeof map.sourcesContent?.[i] === 'string' && (map.sourcesContent[i]?.length ?? 0) > 0;
      if (!shipped && !embedded) problems.push(`${mapFile}: source ${source} is neither in the tarball nor embedded`);
    });
  }
  return { maps, problems };
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug((m[1] ?? '').replace(/`/g, ''))));
}

/** The repository's top-level folders a path mention can start with (src/, test/, bench/...). */
const repoFolders = () =>
  new Set(
    readdirSync(REPO, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .map((d) => d.name),
  );

/**
 * Every link of the shipped README that does not resolve: a relative markdown link (and its
 * #anchor) must name a file in the tarball; so must a `path` in backticks that starts with one of
 * the repository's folders. Absolute URLs are fine.
 */
export function deadReadmeLinks(pkg: PackedPackage): { checked: string[]; dead: string[] } {
  const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
  const prose = readme.replace(/^```[\s\S]*?^```/gm, ''); // code blocks hold code, not links
  const checked: string[] = [];
  const dead: string[] = [];
  const resolveTarget = (target: string) => {
    checked.push(target);
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return; // absolute URL (https:, mailto:)
    const [path = '', anchor] = target.split('#');
    const file = path === '' ? 'README.md' : posix.normalize(path.replace(/^\.\//, ''));
    const isDir = pkg.files.some((f) => f.startsWith(`${file.replace(/\/$/, '')}/`));
    if (!pkg.files.includes(file) && !isDir) return void dead.push(`${target} (not in the tarball)`);
    if (anchor && file.endsWith('.md') && !anchorsOf(readFileSync(join(pkg.dir, file), 'utf8')).has(anchor)) {
      dead.push(`${target} (no heading #${anchor} in ${file})`);
    }
  };
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) resolveTarget(m[1] ?? '');
  const folders = repoFolders();
  for (const m of prose.matchAll(/`([^`\s]+)`/g)) {
    const text = m[1] ?? '';
    const first = text.replace(/^\.\//, '').split('/')[0] ?? '';
    if (text.includes('/') && folders.has(first) && !/^[a-z+]+:/i.test(text)) resolveTarget(text);
  }
  return { checked, dead };
}
