// `hls-bootstrap help [COMMAND]`, and what to say about a word that is no command.

import type { Command } from 'commander';
import { closestCommand } from '../suggest.ts';
import { which } from '../which.ts';
import type { Session } from './session.ts';

/**
 * The usage error for a word that is no command: the command it is near, if any; otherwise, or
 * when it is also a program on PATH, how to exec it (a bare word never execs anything). After
 * `help`, a word that is near nothing gets the list of commands instead.
 */
export function unknownCommand(word: string, root: Command, session: Session, afterHelp = false): string {
  const commands = root.commands.map((c) => c.name());
  const meant = closestCommand(word, commands);
  const unknown = `error: unknown command '${word}'`;
  const exec = `to exec a program, write: hls-bootstrap run -- ${word}`;
  if (meant === undefined) return afterHelp ? `${unknown}; the commands are ${commands.join(', ')}` : `${unknown}; ${exec}`;
  const program = !afterHelp && which(word, session.io.env.PATH, session.io.cwd).found;
  return `${unknown}; did you mean ${meant}?${program ? ` To exec the program ${word} instead, write: hls-bootstrap run -- ${word}` : ''}`;
}

/** `help [command]`: the help of the program, or of one command, as --help prints it; a mistyped name is a usage error. */
export function registerHelp(root: Command, session: Session): void {
  // Commander's own help command is off for a program with an action (a bare hls-bootstrap is run).
  root.helpCommand(false);
  root.command('help')
    .argument('[command]', 'the command to explain')
    .summary('show help: of hls-bootstrap, or of COMMAND')
    .description('Shows the help of hls-bootstrap, or of COMMAND: the same as hls-bootstrap COMMAND --help.')
    .action((name: string | undefined, _opts: unknown, command: Command) => {
      const named = root.commands.find((c) => c.name() === name);
      if (name === undefined) root.outputHelp();
      else if (named !== undefined) named.outputHelp();
      else command.error(unknownCommand(name, root, session, true), { code: 'commander.unknownCommand' });
    });
}
