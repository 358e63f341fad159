// The configuration table: one row per variable drives parsing, --help, `env` and the README.

import { MAX_MIB, TOO_LARGE, parsePercent } from '../3-disk/thresholds.ts';
import * as p from './parse.ts';
import type { UserDb } from './users.ts';

/** What defaults and parsers may consult besides the variables themselves. */
export interface Context {
  readonly users: UserDb;
  readonly euid: number;
  readonly egid: number;
  /** `bytes` bytes from a CSPRNG, as lowercase hex. */
  readonly randomHex: (bytes: number) => string;
}

/** The first non-empty value of a variable across the environment and the env files. */
export type Lookup = (name: string) => string | undefined;

/**
 * What reads a variable: a startup step, or a command that does part of one alone (`sweep`,
 * `check-disk`). Each command reads the variables of what it runs, and its --help lists them.
 */
export type Step = 'storage' | 'sweep' | 'disk' | 'check-disk' | 'supervisord' | 'exec';

export interface Variable<N extends string = string, T = unknown> {
  readonly name: N;
  /** Used when the variable is unset or empty; a function for derived and generated defaults. */
  readonly default: string | ((lookup: Lookup, ctx: Context) => string);
  /**
   * Another variable whose value this one takes when unset, before its default: one that m3u-editor's
   * start script sets (REDIS_HOST). A value taken from it is checked, and reported, as this variable's.
   */
  readonly inherits?: string;
  /** How the default reads in --help and the README, when it is not a fixed text. */
  readonly defaultText?: string;
  /** What is accepted, as a phrase that follows "expected". */
  readonly accepted: string;
  readonly meaning: string;
  readonly parse: (text: string, ctx: Context) => T;
  /** The normalised text passed on to the environment; String(value) when absent. */
  format?(value: T): string;
  readonly steps: readonly Step[];
  /** Never printed in full unless asked to. */
  readonly secret?: boolean;
  /** The default is generated afresh at each start. */
  readonly generated?: boolean;
  /** The name m3u-proxy reads this value by, set in supervisord's environment= line (added if missing). */
  readonly proxy?: string;
  /** Further names the line may carry for it, which the proxy does not read: set where present, never added. */
  readonly proxyAliases?: readonly string[];
}

function row<const N extends string, T>(variable: Variable<N, T>): Variable<N, T> {
  return variable;
}

const text = (value: string): string => value;

/** Another variable's raw text as a default sees it: undefined when unset or invalid (its own row reports that). */
function valid(parse: (text: string) => unknown, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    parse(raw);
    return raw;
  } catch (error) {
    if (error instanceof p.Rejected) return undefined;
    throw error;
  }
}

/** A boolean variable as a default sees it: `unset` when unset or invalid. */
const flag = (raw: string | undefined, unset: boolean): boolean => p.bool(valid(p.bool, raw) ?? String(unset));

const BOOLEAN = 'true/false, 1/0, yes/no or on/off, in any case';
const HLS_DEFAULT_DIR = '/var/www/html/storage/app/hls-segments';
const SAFE_DIR = 'an absolute path that is not / or a system directory such as /etc, /usr or /var, nor directly in one';

/** A percentage, read as check-disk's --inode-warn and --inode-critical read theirs. */
function percent(value: string): number {
  const parsed = parsePercent(value);
  if (parsed === undefined) throw new p.Rejected();
  return parsed;
}

/** A disk threshold in MiB: a whole number whose count of bytes is exact. */
function mebibytes(value: string): number {
  const mib = p.integer(0)(value);
  if (mib > MAX_MIB) throw new p.Rejected(`it is ${TOO_LARGE} (${MAX_MIB} MiB)`);
  return mib;
}

/**
 * The levels m3u-proxy accepts. It hands LOG_LEVEL to Python's logging, which knows WARN, and,
 * lowercased, to uvicorn, which does not and stops the proxy at start-up: so WARN goes on as WARNING.
 */
const logLevel = p.oneOf(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);

/** Every variable hls-bootstrap reads, in the order `env` prints them. */
export const VARIABLES = [
  row({
    name: 'HLS_TEMP_DIR', default: HLS_DEFAULT_DIR, parse: p.hlsDirectory, format: text, accepted: SAFE_DIR,
    meaning: 'where FFmpeg writes live HLS segments', steps: ['storage', 'sweep', 'disk', 'check-disk', 'supervisord'], proxy: 'HLS_TEMP_DIR',
  }),
  row({
    name: 'HLS_GC_ENABLED', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: "whether the proxy's garbage collector removes stale stream directories", steps: ['storage', 'supervisord'], proxy: 'HLS_GC_ENABLED',
  }),
  row({
    name: 'HLS_GC_INTERVAL', default: '600', parse: p.integer(1),
    accepted: 'an integer number of seconds greater than 0',
    meaning: 'seconds between two garbage collector runs', steps: ['supervisord'], proxy: 'HLS_GC_INTERVAL',
  }),
  row({
    name: 'HLS_GC_AGE_THRESHOLD', default: '7200', parse: p.integer(1),
    accepted: 'an integer number of seconds greater than 0',
    meaning: 'age in seconds after which an empty stream directory is removed (and at start-up, a full one)', steps: ['storage', 'sweep', 'supervisord'], proxy: 'HLS_GC_AGE_THRESHOLD',
  }),
  row({
    name: 'HLS_STARTUP_SWEEP', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: 'whether the start removes stream directories older than HLS_GC_AGE_THRESHOLD (also off with HLS_GC_ENABLED=false)',
    steps: ['storage'],
  }),
  row({
    name: 'WWWUSER', default: (_lookup, ctx) => ctx.users.userById(ctx.euid)?.name ?? String(ctx.euid),
    defaultText: 'the effective user', parse: (t, ctx) => p.user(ctx.users)(t), format: (u) => u.name ?? String(u.id),
    accepted: 'a user name from /etc/passwd or a numeric uid',
    meaning: 'owner of HLS_TEMP_DIR (and HLS_BROADCAST_DIR) and what is in it', steps: ['storage'],
  }),
  row({
    name: 'WWWGROUP',
    default: (lookup, ctx) => {
      const name = lookup('WWWUSER');
      const owner = name === undefined ? undefined : ctx.users.userByName(name) ?? ctx.users.userById(Number(name));
      const gid = owner?.gid ?? ctx.egid;
      return ctx.users.groupById(gid)?.name ?? String(gid);
    },
    defaultText: "WWWUSER's primary group, else the effective group",
    parse: (t, ctx) => p.group(ctx.users)(t), format: (g) => g.name ?? String(g.id),
    accepted: 'a group name from /etc/group or a numeric gid',
    meaning: 'group of HLS_TEMP_DIR (and HLS_BROADCAST_DIR) and what is in it', steps: ['storage'],
  }),
  row({
    name: 'HLS_DIR_MODE', default: '0755', parse: p.octalMode, format: p.formatMode,
    accepted: 'an octal mode such as 0755 or 2775 in which the owner has rwx; not setuid, nor sticky and writable by others as /tmp is',
    meaning: 'mode of HLS_TEMP_DIR itself, and of HLS_BROADCAST_DIR', steps: ['storage'],
  }),
  row({
    name: 'HLS_DISK_WARN_MB', default: '2048', parse: mebibytes,
    accepted: 'an integer number of MiB',
    meaning: 'free space below which the disk step warns', steps: ['disk', 'check-disk'],
  }),
  row({
    name: 'HLS_DISK_CRITICAL_MB', default: '512', parse: mebibytes,
    accepted: 'an integer number of MiB, at most HLS_DISK_WARN_MB',
    meaning: 'free space below which the disk step reports critical', steps: ['disk', 'check-disk'],
  }),
  row({
    // A volume of many small segments runs out of inodes with bytes to spare, and FFmpeg then fails as on a full disk.
    name: 'HLS_DISK_INODES_WARN_PERCENT', default: '10', parse: percent,
    accepted: 'a percentage from 0 to 100, such as 10 or 2.5%, with at most two decimals',
    meaning: 'free inodes, in percent of all, below which the disk step warns', steps: ['disk', 'check-disk'],
  }),
  row({
    name: 'HLS_DISK_INODES_CRITICAL_PERCENT', default: '5', parse: percent,
    accepted: 'a percentage as HLS_DISK_INODES_WARN_PERCENT, at most that',
    meaning: 'free inodes, in percent of all, below which the disk step reports critical', steps: ['disk', 'check-disk'],
  }),
  row({
    name: 'HLS_DISK_CRITICAL_ACTION', default: 'warn', parse: p.oneOf(['warn', 'fail']),
    accepted: 'warn (log and go on) or fail (stop the start-up with exit 75)',
    meaning: 'what a critical disk result (space or inodes) does', steps: ['disk'],
  }),
  row({
    name: 'NETWORK_BROADCAST_ENABLED', default: 'false', parse: p.bool, accepted: BOOLEAN,
    meaning: "whether m3u-editor's network broadcasts run; in embedded mode, true prepares HLS_BROADCAST_DIR and checks its space",
    steps: ['storage'],
  }),
  row({
    // An invalid HLS_TEMP_DIR is reported once, by its own row, not again as this default.
    name: 'HLS_BROADCAST_DIR', default: (lookup) => (valid(p.hlsDirectory, lookup('HLS_TEMP_DIR')) ?? HLS_DEFAULT_DIR), defaultText: 'HLS_TEMP_DIR',
    parse: p.hlsDirectory, format: text, accepted: SAFE_DIR,
    meaning: 'where the proxy writes network broadcast segments; meant for a RAM disk (tmpfs)', steps: ['storage', 'supervisord'], proxy: 'HLS_BROADCAST_DIR',
  }),
  row({
    name: 'BROADCAST_GC_ENABLED', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: "whether the proxy's garbage collector removes orphaned broadcast segments", steps: ['supervisord'], proxy: 'BROADCAST_GC_ENABLED',
  }),
  row({
    name: 'HLS_BROADCAST_DISK_WARN_MB', default: '256', parse: mebibytes, accepted: 'an integer number of MiB',
    meaning: 'free space in HLS_BROADCAST_DIR below which the broadcast storage step warns', steps: ['storage'],
  }),
  row({
    name: 'M3U_PROXY_INTEGRATION_ENABLED', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: 'whether m3u-editor works with m3u-proxy at all; false turns embedded mode off, as M3U_PROXY_ENABLED=false does',
    steps: ['storage', 'disk', 'supervisord'],
  }),
  row({
    name: 'M3U_PROXY_ENABLED', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: 'whether the proxy runs in this container (embedded mode, with M3U_PROXY_INTEGRATION_ENABLED); false skips the storage and disk steps',
    steps: ['storage', 'disk', 'supervisord'],
  }),
  row({
    name: 'M3U_PROXY_START_EMBEDDED',
    default: (lookup) => String(flag(lookup('M3U_PROXY_INTEGRATION_ENABLED'), true) && flag(lookup('M3U_PROXY_ENABLED'), true)),
    defaultText: 'true in embedded mode (M3U_PROXY_INTEGRATION_ENABLED and M3U_PROXY_ENABLED both true), else false',
    parse: p.bool, accepted: BOOLEAN, meaning: "supervisord's autostart= for the proxy", steps: ['supervisord'],
  }),
  row({
    name: 'SUPERVISOR_PHP_USER',
    // Root, as upstream's start script forces it: upstream's config has [supervisord]
    // user=%(ENV_SUPERVISOR_PHP_USER)s, and a supervisord that drops to another user first can no
    // longer open its log or start the programs that run as root. Started as another user,
    // supervisord cannot switch users at all and runs every program as itself.
    default: (_lookup, ctx) => (ctx.euid === 0 ? 'root' : ctx.users.userById(ctx.euid)?.name ?? String(ctx.euid)),
    defaultText: 'root when started as root, else the current user', parse: p.word, accepted: 'a user name or uid, without spaces',
    meaning: 'the user supervisord runs the proxy as (and, in upstream\'s config, supervisord itself)', steps: ['supervisord'],
  }),
  row({
    name: 'M3U_PROXY_HOST', default: '127.0.0.1', parse: p.word, accepted: 'a host name or address, without spaces',
    meaning: 'address the proxy listens on', steps: ['supervisord'], proxy: 'HOST',
  }),
  row({
    name: 'M3U_PROXY_PORT', default: '8085', parse: p.integer(1, 65535), accepted: 'a port number from 1 to 65535',
    meaning: 'port the proxy listens on', steps: ['supervisord'], proxy: 'PORT',
  }),
  row({
    name: 'M3U_PROXY_LOG_LEVEL', default: 'ERROR', parse: (t) => logLevel(/^\s*warn\s*$/i.test(t) ? 'WARNING' : t),
    accepted: 'DEBUG, INFO, WARNING (WARN is passed on as WARNING), ERROR or CRITICAL, in any case',
    meaning: "the proxy's log level", steps: ['supervisord'], proxy: 'LOG_LEVEL',
  }),
  row({
    name: 'M3U_PROXY_TOKEN', default: (_lookup, ctx) => ctx.randomHex(24), defaultText: 'generated: 48 random hex characters',
    parse: p.anyText, accepted: 'any text', secret: true, generated: true,
    meaning: "the proxy's API token", steps: ['supervisord'], proxy: 'API_TOKEN',
  }),
  row({
    name: 'M3U_PROXY_REDIS_HOST', default: 'localhost', inherits: 'REDIS_HOST', defaultText: 'REDIS_HOST, else localhost',
    parse: p.word, accepted: 'a host name or address, without spaces',
    meaning: 'Redis host of the proxy', steps: ['supervisord'], proxy: 'REDIS_HOST',
  }),
  row({
    name: 'M3U_PROXY_REDIS_PORT', default: '36790', inherits: 'REDIS_SERVER_PORT', defaultText: 'REDIS_SERVER_PORT, else 36790',
    parse: p.integer(1, 65535), accepted: 'a port number from 1 to 65535',
    meaning: 'Redis port of the proxy', steps: ['supervisord'], proxy: 'REDIS_SERVER_PORT', proxyAliases: ['REDIS_PORT'],
  }),
  row({
    name: 'M3U_PROXY_REDIS_DB', default: '6', parse: p.integer(0), accepted: 'an integer from 0',
    meaning: 'Redis database number of the proxy', steps: ['supervisord'], proxy: 'REDIS_DB',
  }),
  row({
    name: 'M3U_REDIS_ENABLED', default: 'true', parse: p.bool, accepted: BOOLEAN,
    meaning: 'whether the proxy uses Redis', steps: ['supervisord'], proxy: 'REDIS_ENABLED',
  }),
  row({
    name: 'M3U_ENABLE_TRANSCODING_POOLING', default: 'true', parse: p.bool,
    accepted: BOOLEAN,
    meaning: 'whether the proxy shares one transcoder between viewers', steps: ['supervisord'], proxy: 'ENABLE_TRANSCODING_POOLING',
  }),
  row({
    name: 'SUPERVISORD_TEMPLATE', default: '/etc/supervisor/conf.d/supervisord.tmpl', parse: p.filePath, format: text,
    accepted: 'a file path', meaning: 'the supervisord config to render from', steps: ['supervisord'],
  }),
  row({
    name: 'EXEC_USER', default: '', defaultText: 'none: the current user', parse: (t, ctx) => p.execUser(ctx.users)(t),
    format: (u) => u?.label ?? '', accepted: 'USER[:GROUP], names from the databases or numeric ids, or empty',
    meaning: 'the user `run` switches to before exec (needs root), as --user does', steps: ['exec'],
  }),
  row({
    name: 'SUPERVISORD_CONF', default: '/etc/supervisor/conf.d/supervisord.conf', parse: p.filePath, format: text,
    accepted: 'a file path', meaning: 'where the rendered supervisord config is written', steps: ['supervisord', 'exec'],
  }),
] as const;

type AnyVariable = (typeof VARIABLES)[number];

/** The name of a variable in the table. */
export type VariableName = AnyVariable['name'];

/** Parsed values, typed per variable. */
export type Values = { readonly [V in AnyVariable as V['name']]: ReturnType<V['parse']> };

/** The normalised text of a parsed value, as the environment and the proxy receive it. */
export function formatValue(variable: Variable, value: unknown): string {
  return variable.format === undefined ? String(value) : variable.format(value);
}

/** The default as --help and the README show it. */
export function defaultText(variable: Variable): string {
  return variable.defaultText ?? (typeof variable.default === 'string' ? variable.default : '');
}
