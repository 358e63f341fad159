// Did you mean: which mistyped commands and variables get a suggestion, and which must not.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lookAlikeWarnings } from '../../src/1-config/resolve.ts';
import { VARIABLES } from '../../src/1-config/variables.ts';
import { FAMILIES, closestCommand, closestVariable, editDistance } from '../../src/suggest.ts';

const COMMANDS = ['run', 'prepare', 'check-disk', 'render-config', 'sweep', 'env', 'help'];
const KNOWN = VARIABLES.map((v) => v.name);

test('edit distance counts insertions, deletions, substitutions and swaps of neighbours', () => {
  const cases: [string, string, number][] = [
    ['', '', 0], ['', 'abc', 3], ['abc', 'abc', 0], ['abc', 'abd', 1], ['abc', 'ab', 1], ['ab', 'abc', 1],
    ['evn', 'env', 1], ['chek-disk', 'check-disk', 1], ['kitten', 'sitting', 3], ['ca', 'abc', 3],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(editDistance(a, b), expected, `${a} -> ${b}`);
    assert.equal(editDistance(b, a), expected, `${b} -> ${a}`);
  }
});

describe('commands', () => {
  const cases: [string, string | undefined][] = [
    // Typos: a letter missing, doubled, wrong, swapped; another case; another separator.
    ['chek-disk', 'check-disk'], ['check-diskk', 'check-disk'], ['checkdisk', 'check-disk'], ['check_disk', 'check-disk'],
    ['CHECK-DISK', 'check-disk'], ['prepair', 'prepare'], ['preapre', 'prepare'], ['rendr-config', 'render-config'],
    ['render-conf', 'render-config'], ['swep', 'sweep'], ['sweeep', 'sweep'], ['evn', 'env'], ['rnu', 'run'], ['Run', 'run'],
    ['hlep', 'help'],
    // The command's own parts.
    ['disk', 'check-disk'], ['check', 'check-disk'], ['render', 'render-config'], ['config', 'render-config'], ['disk-check', 'check-disk'],
    // Programs someone may have meant to exec, and other words near nothing: no suggestion.
    ['bash', undefined], ['sh', undefined], ['true', undefined], ['rm', undefined], ['ls', undefined], ['cat', undefined],
    ['prune', undefined], ['rune', undefined], ['supervisord', undefined], ['python3', undefined], ['nope', undefined],
    ['start', undefined], ['status', undefined], ['./start.sh', undefined], ['env-file', undefined], ['di', undefined],
  ];
  for (const [word, expected] of cases) {
    test(`${word} -> ${expected ?? 'nothing'}`, () => {
      assert.equal(closestCommand(word, COMMANDS), expected);
    });
  }
});

describe('variables', () => {
  const cases: [string, string | undefined][] = [
    ['HLS_GC_INTERVALL', 'HLS_GC_INTERVAL'], ['HLS_GC_INTERVL', 'HLS_GC_INTERVAL'], ['HLS_GC_INTERAVL', 'HLS_GC_INTERVAL'],
    ['HLS_TMP_DIR', 'HLS_TEMP_DIR'], ['HLS_TEMPDIR', 'HLS_TEMP_DIR'], ['HLS_TEMP__DIR', 'HLS_TEMP_DIR'], ['hls_temp_dir', 'HLS_TEMP_DIR'],
    ['HLS_GC_AGE_TRESHOLD', 'HLS_GC_AGE_THRESHOLD'], ['HLS_DISK_WARN_MIB', 'HLS_DISK_WARN_MB'], ['M3U_PROXY_LOGLEVEL', 'M3U_PROXY_LOG_LEVEL'],
    ['M3U_PROXY_PROT', 'M3U_PROXY_PORT'], ['M3U_PROXY_TOKKEN', 'M3U_PROXY_TOKEN'], ['WWWUSR', 'WWWUSER'], ['wwwgroup', 'WWWGROUP'],
    ['SUPERVISORD_CONFIG', 'SUPERVISORD_CONF'], ['SUPERVISOR_PHP_USR', 'SUPERVISOR_PHP_USER'], ['EXEC_USR', 'EXEC_USER'],
    ['M3U_PROXY_REDIS_DBB', 'M3U_PROXY_REDIS_DB'],
    // Known variables are no mistake.
    ...KNOWN.map((name): [string, undefined] => [name, undefined]),
    // What m3u-editor's image and its start script legitimately set, none of which hls-bootstrap reads.
    ...['HLS_BROADCAST_DIR', 'M3U_PROXY_INTEGRATION_ENABLED', 'M3U_PROXY_PUBLIC_URL', 'M3U_PROXY_URL', 'M3U_PROXY_NGINX_TARGET',
      'M3U_PROXY_FAILOVER_RESOLVER_URL', 'M3U_PROXY_REPO', 'M3U_PROXY_BRANCH', 'M3U_PROXY_COMMIT', 'M3U_PROXY', 'M3U_TOKEN',
      'M3U_URL', 'M3U_UUID', 'M3U_NAME', 'SUPERVISOR_PHP_COMMAND', 'WWWDATA'].map((name): [string, undefined] => [name, undefined]),
    // Outside the families, however near: REDIS_* and the like are other programs' business.
    ['REDIS_HOST', undefined], ['BROADCAST_GC_ENABLED', undefined], ['XHLS_TEMP_DIR', undefined], ['PATH', undefined],
  ];
  for (const [name, expected] of cases) {
    test(`${name} -> ${expected ?? 'nothing'}`, () => {
      assert.equal(closestVariable(name, KNOWN), expected);
    });
  }

  test('every variable of the table is in a family, so that its misspellings are caught', () => {
    for (const name of KNOWN) assert.ok(FAMILIES.some((f) => name.startsWith(f)), name);
  });
});

describe('look-alike warnings', () => {
  test('one line per look-alike, naming where it was set; empty values and others are quiet', () => {
    const warnings = lookAlikeWarnings([
      { source: 'environment', values: { HLS_GC_INTERVALL: '60', HLS_TMP_DIR: '', M3U_PROXY_PUBLIC_URL: 'http://x', HLS_GC_INTERVAL: '60', PATH: '/bin' } },
      { source: 'prod.env', values: { M3U_PROXY_PROT: '9000', HLS_GC_INTERVALL: '61' } },
    ]);
    assert.deepEqual(warnings, [
      'HLS_GC_INTERVALL is not a variable hls-bootstrap reads, and is ignored; did you mean HLS_GC_INTERVAL?',
      'M3U_PROXY_PROT (from prod.env) is not a variable hls-bootstrap reads, and is ignored; did you mean M3U_PROXY_PORT?',
    ]);
  });
});
