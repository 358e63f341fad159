// Reads what the image runs from docker/: the Dockerfile's instructions, compose.yml, the Kubernetes manifests.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ROOT } from './cli.ts';

export const DOCKER = join(ROOT, 'docker');

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
export function dockerfile(): Instruction[] {
  const logical = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

/** The exec-form argv of the first `keyword` instruction (ENTRYPOINT, or HEALTHCHECK's CMD). */
export function execForm(keyword: 'ENTRYPOINT' | 'HEALTHCHECK'): string[] {
  const args = dockerfile().find((i) => i.keyword === keyword)?.args ?? '';
  const json = /\[.*\]$/.exec(args)?.[0];
  if (json === undefined) throw new Error(`${keyword} is not in exec form: ${args}`);
  return JSON.parse(json) as string[];
}

/** Every ENV of the final stage, KEY=VALUE form. */
export function dockerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of dockerfile().filter((i) => i.keyword === 'ENV')) {
    for (const [, key, value] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[key ?? ''] = (value ?? '').replace(/^"|"$/g, '');
  }
  return env;
}

/** Sources of every COPY that comes from the build context, not from a build stage. */
export function contextCopies(): string[] {
  return dockerfile()
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
}

interface ComposeService {
  readonly environment?: Record<string, string>;
  readonly healthcheck?: { readonly test: string[] };
}

export function compose(): { services: Record<string, ComposeService> } {
  return parse(readFileSync(join(DOCKER, 'compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
}

/** The Kubernetes manifests, every document of every file. */
export function kubernetes(): Record<string, unknown>[] {
  return ['configmap.yaml', 'deployment.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(join(DOCKER, 'kubernetes', file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>));
}

interface Container {
  readonly command?: string[];
  readonly readinessProbe?: { exec?: { command: string[] } };
  readonly livenessProbe?: { exec?: { command: string[] } };
}

/** The Deployment's init containers and containers. */
export function podContainers(): { init: Container[]; main: Container[] } {
  const deployment = kubernetes().find((d) => d.kind === 'Deployment') as { spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } } };
  return { init: deployment.spec.template.spec.initContainers, main: deployment.spec.template.spec.containers };
}

/** The ConfigMap's data. */
export function configMap(): Record<string, string> {
  return (kubernetes().find((d) => d.kind === 'ConfigMap') as { data: Record<string, string> }).data;
}
