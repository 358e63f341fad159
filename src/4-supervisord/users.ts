// The users a rendered supervisord config names: each must exist, and a supervisord that is not root runs programs only as itself.

import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { UserDb } from '../1-config/users.ts';
import { envNames, expand } from './expand.ts';
import { effectiveOption, optionValue, sectionName, splitLines } from './ini.ts';

/** Sections whose user= supervisord switches a child to (supervisor/options.py, ProcessConfig). */
const PROCESS_SECTION = /^(program|eventlistener|fcgi-program):(.+)$/;

export interface UsersContext {
  /** The environment supervisord is started with, which %(ENV_X)s expands from. */
  readonly env: Readonly<Record<string, string>>;
  readonly users: UserDb;
  /** The uid supervisord is exec'd as. */
  readonly uid: number;
  /** Where the config is written, for %(here)s. */
  readonly path: string;
}

/** The uid supervisord's name_to_uid() gives, which needs a user database entry even for a number. */
function uidOf(value: string, users: UserDb): number | string {
  if (/^[0-9]+$/.test(value)) {
    return users.userById(Number(value))?.uid ?? `supervisord needs a user database entry even for a numeric uid, and /etc/passwd has none for ${value}`;
  }
  return users.userByName(value)?.uid ?? `there is no user named "${value}" in the user database (/etc/passwd)`;
}

/**
 * What supervisord would refuse about users in `text`, each naming the section, the option and the
 * value: a user= of [supervisord] or of a program that names no user in the database ("Invalid user
 * name", "Invalid user id"); a [supervisord] user= other than the user it is exec'd as, when that is
 * not root ("Can't drop privilege as nonroot user"); and a program's user= other than the user
 * supervisord then runs as, when that is not root, which supervisord could never start.
 */
export function userProblems(text: string, context: UsersContext): string[] {
  const lines = splitLines(text);
  const problems: string[] = [];
  const base = { ...envNames(context.env), here: dirname(context.path), host_node_name: hostname() };
  const resolved: { section: string; shown: string; uid: number }[] = [];
  const names = new Set(lines.map(sectionName).filter((name): name is string => name !== undefined));
  for (const name of names) {
    const program = PROCESS_SECTION.exec(name)?.[2];
    if (name !== 'supervisord' && program === undefined) continue;
    // The user= supervisord uses: the last one, of a section written once or more.
    const option = effectiveOption(lines, name, 'user')?.option;
    if (option === undefined) continue;
    const raw = optionValue(lines, option);
    const { text: value, unknown } = expand(raw, program === undefined ? base : { ...base, program_name: program, group_name: program });
    // A name this check cannot know (process_num): the value is left to supervisord.
    if (unknown.length > 0) continue;
    const shown = `[${name}] user=${raw}${raw === value ? '' : ` (${value})`}`;
    const uid = uidOf(value, context.users);
    if (typeof uid === 'string') problems.push(`${shown}: ${uid}`);
    else resolved.push({ section: name, shown, uid });
  }
  const own = resolved.find((r) => r.section === 'supervisord');
  if (own !== undefined && context.uid !== 0 && own.uid !== context.uid) {
    problems.push(`${own.shown}: supervisord starts as uid ${context.uid}, and only root can switch to another user`);
  }
  const runsAs = context.uid === 0 ? own?.uid ?? 0 : context.uid;
  if (runsAs !== 0) {
    const why = own === undefined ? `supervisord runs as uid ${runsAs}` : `supervisord runs as uid ${runsAs} (${own.shown})`;
    for (const program of resolved.filter((r) => r.section !== 'supervisord' && r.uid !== runsAs)) {
      problems.push(`${program.shown}: ${why}, and a supervisord that is not root cannot start a program as another user`);
    }
  }
  return problems;
}
