import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

/**
 * Documentation links stay inside the repository and lead somewhere. Every relative Markdown link in the
 * repository's Markdown files must name a file or folder of the repository (not outside it, not an ignored or
 * missing file) and, when it points into a Markdown file with `#anchor`, a heading or `<a id>` of that file.
 * No source file may point at the design notes kept outside the repository either.
 * Web links (http, https, mailto and other schemes) are not checked.
 */

const ROOT = resolve(__dirname, '..', '..');
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.local', '.git', '.nx', 'coverage']);
const SOURCE_EXTENSIONS = new Set(['.ts', '.mjs', '.cjs', '.js', '.sh', '.md', '.json', '.yaml', '.yml']);
/** Built so that this file does not contain the string it looks for. */
const OUTSIDE_DESIGN_DIR = ['..', 'shared', ''].join('/');

/**
 * The repository's files, relative to the root with `/` separators: tracked files plus untracked ones that are
 * not ignored (a new file is checked before it is committed); files deleted in the working tree are left out.
 * Without git (e.g. an exported tree), a walk that skips dependencies and build output.
 */
function repositoryFiles(): { files: string[]; fromGit: boolean } {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const files = [...new Set(out.split('\0').filter(Boolean))].filter((f) => existsSync(join(ROOT, f))).sort();
    return { files, fromGit: true };
  } catch {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
        } else if (entry.isFile()) {
          files.push(relative(ROOT, join(dir, entry.name)).split(sep).join('/'));
        }
      }
    };
    walk(ROOT);
    return { files: files.sort(), fromGit: false };
  }
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, each space a hyphen (github-slugger). */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/<[^>]*>/g, '') // inline HTML
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Removes fenced code blocks (keeping line numbers) and inline code spans, where link syntax means nothing. */
function withoutCode(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = undefined;
      return '';
    }
    if (m) {
      fence = m[1];
      return '';
    }
    return line.replace(/(`+)[\s\S]*?\1/g, '');
  });
}

/** Anchors a Markdown file defines: heading slugs (numbered like GitHub when repeated) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const add = (slug: string) => {
    const n = seen.get(slug);
    seen.set(slug, (n ?? -1) + 1);
    anchors.add(n === undefined ? slug : `${slug}-${n + 1}`);
  };
  const lines = withoutCode(markdown);
  const raw = markdown.split('\n');
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) add(githubSlug(raw[i].replace(/^ {0,3}#{1,6}[ \t]+/, '').replace(/[ \t]+#+[ \t]*$/, '')));
    else if (i > 0 && /^ {0,3}(=+|-+)[ \t]*$/.test(line) && lines[i - 1].trim() !== '' && !/^ {0,3}([-*_])/.test(lines[i - 1])) {
      add(githubSlug(raw[i - 1]));
    }
    for (const m of line.matchAll(/<[a-z][^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1]);
  });
  return anchors;
}

export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`, outside code. */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  const inline = /!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  withoutCode(markdown).forEach((line, i) => {
    for (const m of line.matchAll(inline)) links.push({ line: i + 1, target: m[1].replace(/^<|>$/g, '') });
    const def = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(line);
    if (def) links.push({ line: i + 1, target: def[1].replace(/^<|>$/g, '') });
  });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Every broken link of the repository's Markdown, as `file:line -> target (reason)`. */
function brokenLinks(): string[] {
  const { files, fromGit } = repositoryFiles();
  const fileSet = new Set(files);
  const dirSet = new Set<string>(['']);
  for (const f of files) for (let d = dirname(f); d !== '.'; d = dirname(d)) dirSet.add(d);
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (file: string) => {
    let a = anchorCache.get(file);
    if (!a) anchorCache.set(file, (a = anchorsOf(readFileSync(join(ROOT, file), 'utf8'))));
    return a;
  };
  const inRepository = (rel: string) =>
    fromGit
      ? fileSet.has(rel) || dirSet.has(rel)
      : existsSync(join(ROOT, rel)) && (rel === '' || !rel.split('/').some((p) => SKIPPED_DIRS.has(p)));

  const problems: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    for (const { line, target } of linksOf(readFileSync(join(ROOT, file), 'utf8'))) {
      if (target === '' || isExternal(target)) continue;
      const bad = (reason: string) => problems.push(`${file}:${line} -> ${target} (${reason})`);
      const hash = target.indexOf('#');
      const pathPart = hash < 0 ? target : target.slice(0, hash);
      const anchor = hash < 0 ? undefined : target.slice(hash + 1);
      let decoded: string;
      try {
        decoded = decodeURIComponent(pathPart.split('?')[0]);
      } catch {
        bad('not a valid URL path');
        continue;
      }
      const absolute = decoded.startsWith('/') ? resolve(ROOT, `.${decoded}`) : resolve(ROOT, dirname(file), decoded);
      const rel = relative(ROOT, absolute).split(sep).join('/');
      if (rel === '..' || rel.startsWith('../') || resolve(ROOT, rel) !== absolute) {
        bad('leaves the repository');
        continue;
      }
      if (!inRepository(rel)) {
        bad(existsSync(absolute) ? 'not part of the repository (ignored or build output)' : 'no such file');
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      const targetFile = decoded === '' ? file : rel;
      if (extname(targetFile).toLowerCase() !== '.md' || !statSync(join(ROOT, targetFile)).isFile()) continue;
      let id: string;
      try {
        id = decodeURIComponent(anchor);
      } catch {
        id = anchor;
      }
      if (!anchorsIn(targetFile).has(id) && !anchorsIn(targetFile).has(id.toLowerCase())) bad(`no anchor #${id} in ${targetFile}`);
    }
  }
  return problems;
}

/** Source files that still point at the design notes outside the repository, as `file:line -> text`. */
function linksOutsideToDesignNotes(): string[] {
  const { files } = repositoryFiles();
  const problems: string[] = [];
  for (const file of files.filter((f) => SOURCE_EXTENSIONS.has(extname(f)))) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    if (!text.includes(OUTSIDE_DESIGN_DIR)) continue;
    text.split('\n').forEach((l, i) => {
      if (l.includes(OUTSIDE_DESIGN_DIR)) problems.push(`${file}:${i + 1} -> ${l.trim().slice(0, 160)} (points outside the repository)`);
    });
  }
  return problems;
}

const failWith = (what: string, problems: string[]) => {
  if (problems.length > 0) throw new Error(`${problems.length} ${what}:\n${problems.join('\n')}`);
};

describe('documentation links', () => {
  it('computes anchors the way GitHub does', () => {
    expect(githubSlug('Rule 4 — Results and imaging follow the referral, only with consent, provably')).toBe(
      'rule-4--results-and-imaging-follow-the-referral-only-with-consent-provably',
    );
    expect(githubSlug('The `decision` Update (v2)')).toBe('the-decision-update-v2');
    expect(githubSlug('Who takes part (roles)')).toBe('who-takes-part-roles');
    const anchors = anchorsOf('# A\n\n## A\n\n```\n# not a heading\n```\n\n<a id="rule-4"></a>\n\nSetext\n------\n');
    expect([...anchors].sort()).toEqual(['a', 'a-1', 'rule-4', 'setext']);
  });

  it('finds inline links, images and reference definitions, but not links in code', () => {
    const md = 'See [a](x.md#y) and ![img](<p q.png> "t").\n`[not](code.md)`\n```\n[no](fence.md)\n```\n[ref]: ../out.md\n';
    expect(linksOf(md)).toEqual([
      { line: 1, target: 'x.md#y' },
      { line: 1, target: 'p q.png' },
      { line: 6, target: '../out.md' },
    ]);
  });

  it('every relative link in the Markdown files leads to a file, folder or anchor inside the repository', () => {
    failWith('broken documentation link(s)', brokenLinks());
  });

  it('no source file points at design notes outside the repository', () => {
    failWith('reference(s) outside the repository', linksOutsideToDesignNotes());
  });
});
