// Starts a helper process on a share of the jobs, reads its progress and result, and ends it on request.

import { spawn, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HELPER_HOME_FD, toWire, type HelperInput, type HelperResult, type Job, type TaskSpec } from './jobs.ts';

/** How long a helper asked to stop may take to reach its next pause before it is killed. */
const KILL_AFTER_MS = 500;

/** A running helper, as the process that started it sees it. */
export interface Helper {
  readonly jobs: readonly Job[];
  /** Entries it has checked so far, from its progress lines. */
  checked: number;
  /** Resolves once it has exited, with its last line or why there was none. */
  readonly done: Promise<HelperResult>;
  /** Asks it to stop at its next pause, and kills it if it has not soon after; nothing once it has exited. */
  stop(): void;
}

function helperPath(): string {
  // In the build this code is dist/cli.cjs, beside helper.cjs; under the test runner it is the .ts source.
  const file = import.meta.url.endsWith('.ts') ? './helper.ts' : './helper.cjs';
  return fileURLToPath(new URL(file, import.meta.url));
}

/** Starts a helper on `jobs`; it inherits HLS_TEMP_DIR's handle `home` as descriptor 3, and `inherit`, if any, as 4. */
export function startHelper(home: number, spec: TaskSpec, jobs: readonly Job[], onProgress: () => void, inherit?: number): Helper {
  const stdio: StdioOptions = ['pipe', 'pipe', 'inherit'];
  stdio[HELPER_HOME_FD] = home;
  if (inherit !== undefined) stdio[HELPER_HOME_FD + 1] = inherit;
  const child = spawn(process.execPath, ['--', helperPath()], { stdio, env: {} });
  let result: HelperResult | undefined;
  let exited = false;
  let asked = false;
  let killer: NodeJS.Timeout | undefined;
  const done = new Promise<HelperResult>((resolve) => {
    child.on('error', (error) => {
      exited = true;
      resolve({ ok: false, error: error.message, failure: 'failed' });
    });
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(killer);
      resolve(result ?? { ok: false, error: `a helper process exited with ${signal ?? String(code)}`, failure: asked ? 'stopped' : 'failed' });
    });
  });
  const helper: Helper = {
    jobs,
    checked: 0,
    done,
    stop: () => {
      if (exited || asked) return;
      asked = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    },
  };
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('progress ')) {
        helper.checked = Number(line.slice(9));
        onProgress();
      } else if (line.startsWith('result ')) {
        result = JSON.parse(line.slice(7)) as HelperResult;
      }
    }
  });
  // A helper that died at once must not take this process with it through an unhandled EPIPE.
  child.stdin?.on('error', () => undefined);
  const input: HelperInput = { parent: process.pid, task: spec, jobs: jobs.map(toWire) };
  child.stdin?.end(JSON.stringify(input));
  return helper;
}
