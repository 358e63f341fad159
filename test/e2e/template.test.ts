// Templates written as supervisord's configparser reads them, however odd: rendered, then run by the real supervisord.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { effectiveOption, iniProblems, optionValue, splitLines } from '../../src/4-supervisord/ini.ts';
import { NODE, PATH, SHIPPED, cli, tempDir } from '../support/cli.ts';
import { prng, seed } from '../support/random.ts';
import { needsProgram } from '../support/require.ts';
import { runSupervisord, writeText } from '../support/supervisord.ts';

/** What the proxy must receive from the defaults, besides the template's own keys. */
const OWNED = { HOST: '127.0.0.1', PORT: '8085', API_TOKEN: 'the-token', HLS_GC_INTERVAL: '600', REDIS_SERVER_PORT: '36790' };

/** The head of a template whose proxy is the stand-in, reporting to `dir`/report.json. */
function head(dir: string): { global: string; command: string } {
  return {
    global: `[supervisord]\nnodaemon=true\nlogfile=${join(dir, 'supervisord.log')}\npidfile=${join(dir, 'supervisord.pid')}\n`,
    command: `command=${NODE} ${SHIPPED.standIn} --out ${join(dir, 'report.json')}`,
  };
}

/** Renders `template` (written to `dir`) with render-config, then renders the result again. */
function renderTwice(dir: string, template: string): { code: number | null; stderr: string; text: string; again: string } {
  const env = { SUPERVISORD_TEMPLATE: writeText(join(dir, 'template.conf'), template), SUPERVISORD_CONF: join(dir, 'rendered.conf'), M3U_PROXY_TOKEN: 'the-token' };
  const r = cli(['render-config'], { cwd: dir, env });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, text: '', again: '' };
  const text = readFileSync(join(dir, 'rendered.conf'), 'utf8');
  const second = cli(['render-config', '--template', join(dir, 'rendered.conf'), '-o', join(dir, 'again.conf')], { cwd: dir, env });
  assert.equal(second.code, 0, second.stderr);
  return { code: r.code, stderr: r.stderr, text, again: readFileSync(join(dir, 'again.conf'), 'utf8') };
}

const PYTHON_READ = `
import io, json, sys
from supervisor.options import UnhosedConfigParser
def read(text):
    parser = UnhosedConfigParser()
    try:
        parser.read_file(io.StringIO(text, newline=None))
    except Exception as e:
        return 'error'
    return {s: dict(parser.items(s)) for s in parser.sections()}
print(json.dumps([read(t) for t in json.load(sys.stdin)]))
`;

/** Random ini text from the pieces that trouble a reader: indentation, comments, duplicates, case, line ends. */
function randomTemplates(s: number, count: number): string[] {
  const next = prng(s);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const pieces = ['[a]', '[b]', '[a] ;c', '[b]x', '[a]]', '  [a]', 'k=v', 'K = w', 'k : x', 'x=1 ;c', 'x=1;c', 'k=a #b', '  k=i', '    more',
    '\tmore', '', '; note', '# note', '  ; note', 'k=', 'k=\u00a0;c', 'k=\u2028x', 'k=\ufeff;x'];
  return Array.from({ length: count }, () => {
    // Now and then a line configparser refuses.
    const lines = Array.from({ length: 1 + Math.floor(next() * 10) }, () => (next() < 0.02 ? pick(['oops', '=v']) : pick(pieces)));
    return ['[a]', ...lines].map((line) => line + pick(['\n', '\n', '\r\n', '\r'])).join('');
  });
}

test('reads sections, options, continuations and duplicates exactly as supervisor\'s configparser, or refuses', (t: TestContext) => {
  if (!needsProgram(t, 'supervisord')) return;
  const s = seed();
  const texts = randomTemplates(s, 3000);
  const result = spawnSync('/usr/bin/python3', ['-c', PYTHON_READ], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, result.stderr);
  const expected = JSON.parse(result.stdout) as (Record<string, Record<string, string>> | 'error')[];
  let refused = 0;
  texts.forEach((text, i) => {
    const lines = splitLines(text);
    const where = `${JSON.stringify(text)} (seed ${s})`;
    const theirs = expected[i];
    if (iniProblems(lines).length > 0) {
      refused++;
      // Refused where configparser fails, or where an indented header would be read as one.
      assert.ok(theirs === 'error' || /(^|[\r\n])[ \t]+\[/.test(text), `refused, but configparser reads ${where}`);
      return;
    }
    assert.ok(typeof theirs === 'object', `configparser refuses ${where}`);
    for (const section of ['a', 'b', 'a]']) {
      for (const key of ['k', 'x']) {
        const value: string | undefined = theirs[section]?.[key];
        const option = effectiveOption(lines, section, key)?.option;
        assert.equal(option === undefined, value === undefined, `[${section}] ${key} in ${where}`);
        // configparser keeps a blank line inside a value as an empty line; it reads as whitespace all the same.
        if (option !== undefined) assert.equal(optionValue(lines, option), value?.replace(/\n+/g, '\n'), `[${section}] ${key} in ${where}`);
      }
    }
  });
  t.diagnostic(`${texts.length - refused} read alike, ${refused} refused (seed ${s})`);
});

describe('a template supervisord reads in its own way: every value still reaches the proxy', () => {
  const cases: [string, (h: ReturnType<typeof head>) => string, Record<string, string>][] = [
    ['[program:m3u-proxy] written twice: supervisord merges them, the later environment= winning',
      (h) => `${h.global}\n[program:m3u-proxy]\n${h.command}\nenvironment=FIRST="1",HOST="x"\n\n[program:m3u-proxy]\nautorestart=false\nstartsecs=0\nenvironment=SECOND="2",HOST="y"\n`,
      { SECOND: '2' }],
    ['environment= twice in the section, the second as "Environment =": the later one counts',
      (h) => `${h.global}\n[program:m3u-proxy]\n${h.command}\nenvironment=FIRST="1"\nautorestart=false\nstartsecs=0\nEnvironment = SECOND="2",HOST="y"\n`,
      { SECOND: '2' }],
    ['options indented, and a continuation indented deeper still, with a comment between',
      (h) => `${h.global}\n[program:m3u-proxy]\n    ${h.command}\n    autorestart=false\n    startsecs=0\n    environment=KEEP="kept",\n        HOST="x",\n; a note\n        OTHER="o"\n    priority=7\n`,
      { KEEP: 'kept', OTHER: 'o' }],
    ['a section header with text after its ], no space between',
      (h) => `${h.global}\n[program:m3u-proxy]# the proxy\n${h.command}\nautorestart=false\nstartsecs=0\nenvironment=KEEP="kept"\n`,
      { KEEP: 'kept' }],
    ['a name of the proxy\'s in another case after its own: m3u-proxy reads names in any case, the later winning, so it is set too',
      (h) => `${h.global}\n[program:m3u-proxy]\n${h.command}\nautorestart=false\nstartsecs=0\nenvironment=HOST="x",host="0.0.0.0",Api_Token="old"\n`,
      { host: '127.0.0.1', Api_Token: 'the-token' }],
    ['lines ended by a lone carriage return',
      (h) => `${h.global}\n[program:m3u-proxy]\n${h.command}\nautorestart=false\nstartsecs=0\nenvironment=KEEP="kept",\n    HOST="x"\n`.replaceAll('\n', '\r'),
      { KEEP: 'kept' }],
  ];
  for (const [name, template, kept] of cases) {
    test(name, async (t: TestContext) => {
      if (!needsProgram(t, 'supervisord')) return;
      const dir = tempDir(t);
      const r = renderTwice(dir, template(head(dir)));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.again, r.text, 'rendering the rendered file gives it back');
      const run = await runSupervisord(join(dir, 'rendered.conf'), { PATH }, join(dir, 'report.json'));
      assert.ok(run.report, run.output);
      for (const [key, value] of Object.entries({ ...OWNED, ...kept })) assert.equal(run.report.env[key], value, key);
      assert.equal(run.report.env.FIRST, undefined, 'the earlier line is not the one supervisord reads');
    });
  }
});

describe('a template supervisord cannot read: 78 before anything is written, and supervisord refuses it too', () => {
  const cases: [string, (h: ReturnType<typeof head>) => Buffer, RegExp, RegExp][] = [
    ['a byte order mark', (h) => Buffer.from(`\ufeff${h.global}\n[program:m3u-proxy]\n${h.command}\n`),
      /line 1 starts with a byte order mark \(U\+FEFF\), which supervisord does not skip/, /File contains no section headers/],
    ['a Latin-1 byte in a comment', (h) => Buffer.concat([Buffer.from(`${h.global}; caf`), Buffer.from([0xe9]), Buffer.from(`\n[program:m3u-proxy]\n${h.command}\n`)]),
      /the supervisord template .*template\.conf \(SUPERVISORD_TEMPLATE\) is not UTF-8 \(line 5\)/, /'utf-8' codec can't decode byte 0xe9/],
    ['a line that is no option', (h) => Buffer.from(`${h.global}oops\n[program:m3u-proxy]\n${h.command}\n`),
      /supervisord cannot read the template: line 5 \("oops"\) is neither a \[section\] header, an option/, /Source contains parsing errors/],
    ['an option before any section', (h) => Buffer.from(`nodaemon=true\n${h.global}\n[program:m3u-proxy]\n${h.command}\n`),
      /line 1 \("nodaemon=true"\) comes before any \[section\] header/, /File contains no section headers/],
  ];
  for (const [name, template, ours, theirs] of cases) {
    test(name, (t: TestContext) => {
      if (!needsProgram(t, 'supervisord')) return;
      const dir = tempDir(t);
      const path = join(dir, 'template.conf');
      writeFileSync(path, template(head(dir)));
      const r = cli(['render-config'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: path, SUPERVISORD_CONF: join(dir, 'rendered.conf') } });
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, ours);
      assert.equal(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout, 'template.conf\n', 'nothing written');
      const own = spawnSync('supervisord', ['-n', '-c', path], { encoding: 'utf8', env: { PATH, LANG: 'C.UTF-8' }, timeout: 20_000 });
      assert.notEqual(own.status, 0);
      assert.match(own.stdout + own.stderr, theirs);
    });
  }
});

describe('render-config --check and its trial supervisord', () => {
  test('a supervisord that reports its start and then ignores SIGTERM does not hold the check', (t: TestContext) => {
    const dir = tempDir(t);
    const fake = join(dir, 'supervisord');
    writeFileSync(fake, '#!/bin/sh\ntrap "" TERM\necho "INFO supervisord started with pid $$"\nexec sleep 600\n');
    chmodSync(fake, 0o755);
    chmodSync(dir, 0o755);
    const started = Date.now();
    const r = cli(['render-config', '--check'], { cwd: dir, env: { PATH: `${dir}:${PATH}`, SUPERVISORD_TEMPLATE: SHIPPED.template }, timeout: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✅ .*supervisord loaded it and started/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  test('a template with forty programs is checked in seconds, not a second a program', (t: TestContext) => {
    if (!needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const programs = Array.from({ length: 40 }, (_, i) => `[program:p${i}]\ncommand=/bin/false\nautostart=false\n`).join('\n');
    const template = writeText(join(dir, 'many.conf'), `${readFileSync(SHIPPED.template, 'utf8')}\n${programs}`);
    const started = Date.now();
    const r = cli(['render-config', '--check'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: template } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });
});
