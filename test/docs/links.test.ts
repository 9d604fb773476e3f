// The README and docs/ link each other and the repository's files: every relative link must reach a
// file or folder that exists, and every #anchor a heading of its page, slugged as GitHub does.
// External links (http, https, mailto) are not checked: the tests run offline.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import MarkdownIt, { type Token } from 'markdown-it';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const markdown = MarkdownIt({ html: true });

const docsFiles = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.md'))
  .map((file) => join('docs', file).split(sep).join('/'))
  .sort();
const checkedFiles = ['README.md', ...docsFiles];

interface Page {
  links: { href: string; line: number }[];
  anchors: Set<string>;
}

const pages = new Map<string, Page>();

/** Links, images and heading slugs of one Markdown file (a path relative to the repository). */
function page(file: string): Page {
  const known = pages.get(file);
  if (known) return known;
  const tokens = markdown.parse(readFileSync(join(root, file), 'utf8'), {});
  const slugger = new GithubSlugger();
  const links: Page['links'] = [];
  const anchors = new Set<string>();
  tokens.forEach((token, index) => {
    if (token.type === 'heading_open') anchors.add(slugger.slug(plainText(tokens[index + 1])));
    const line = (token.map?.[0] ?? 0) + 1;
    for (const child of token.children ?? []) {
      const href = child.type === 'link_open' ? child.attrGet('href') : child.attrGet('src');
      if (typeof href === 'string' && (child.type === 'link_open' || child.type === 'image')) {
        links.push({ href, line });
      }
    }
  });
  const parsed = { links, anchors };
  pages.set(file, parsed);
  return parsed;
}

/** A heading's text as GitHub slugs it: the words, without the Markdown around them. */
function plainText(inline: Token | undefined): string {
  return (inline?.children ?? [])
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('');
}

const isExternal = (href: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(href);

/** A link's path, written in `file`, as a path relative to the repository ('../x' when outside it). */
const repoPath = (file: string, path: string): string =>
  relative(root, resolve(root, dirname(file), path))
    .split(sep)
    .join('/');

/** Why a link of `file` is broken, or undefined when it is not. */
function brokenReason(file: string, href: string): string | undefined {
  if (isExternal(href)) return undefined; // http(s), mailto: not checked offline
  const hashAt = href.indexOf('#');
  const path = decodeURIComponent(hashAt === -1 ? href : href.slice(0, hashAt));
  const anchor = hashAt === -1 ? undefined : decodeURIComponent(href.slice(hashAt + 1));
  if (path.startsWith('/')) return 'an absolute path: write it relative to the page';
  const target = path === '' ? file : repoPath(file, path);
  if (target.startsWith('../')) return `${target} is outside the repository`;
  if (!existsSync(join(root, target))) return `${target} does not exist`;
  if (anchor === undefined) return undefined;
  if (!target.endsWith('.md') || statSync(join(root, target)).isDirectory()) {
    return `#${anchor} points into ${target}, which has no headings to check`;
  }
  return page(target).anchors.has(anchor) ? undefined : `${target} has no heading #${anchor}`;
}

describe('documentation links', () => {
  it('finds the README and the docs pages, with links in them', () => {
    expect(docsFiles).toContain('docs/README.md');
    expect(page('README.md').links.length).toBeGreaterThan(10);
  });

  it.each(checkedFiles)('%s: every relative link and #anchor resolves', (file) => {
    const broken = page(file)
      .links.map(({ href, line }) => ({ line, href, reason: brokenReason(file, href) }))
      .filter((link) => link.reason !== undefined)
      .map(({ line, href, reason }) => `${file}:${line} ${href}: ${reason}`);
    expect(broken).toEqual([]);
  });

  it('the docs index and the README link every docs page', () => {
    const linkedFrom = (file: string): Set<string> =>
      new Set(
        page(file)
          .links.map(({ href }) => href.split('#')[0] ?? '')
          .filter((path) => path !== '' && !isExternal(path))
          .map((path) => repoPath(file, decodeURIComponent(path))),
      );
    const pagesOnly = docsFiles.filter((file) => file !== 'docs/README.md');
    const fromIndex = linkedFrom('docs/README.md');
    const fromReadme = linkedFrom('README.md');
    expect(pagesOnly.filter((file) => !fromIndex.has(file))).toEqual([]);
    expect(pagesOnly.filter((file) => !fromReadme.has(file))).toEqual([]);
    expect(fromReadme.has('docs/README.md')).toBe(true);
  });
});
