// Reads what the image runs from docker/: the Dockerfile's instructions, compose.yml, the Kubernetes manifests.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ROOT } from './root.ts';

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

export interface ComposeService {
  readonly image?: string;
  readonly profiles?: readonly string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: readonly string[];
  readonly healthcheck?: { readonly test: string[] };
}

export function compose(): { services: Record<string, ComposeService>; volumes?: Record<string, unknown> } {
  return parse(readFileSync(join(DOCKER, 'compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
}

/** The variables docker-compose reads from docker/.env (the project name, the default profile). */
export function composeDotEnv(): Record<string, string> {
  return Object.fromEntries(readFileSync(join(DOCKER, '.env'), 'utf8').split('\n')
    .filter((line) => /^\w+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** The Kubernetes manifests, every document of every file. */
export function kubernetes(): Record<string, unknown>[] {
  return ['configmap.yaml', 'deployment.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(join(DOCKER, 'kubernetes', file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>));
}

export interface Probe {
  readonly exec?: { readonly command: string[] };
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly envFrom?: readonly { readonly configMapRef?: { readonly name: string } }[];
  readonly securityContext?: {
    readonly runAsUser?: number;
    readonly runAsGroup?: number;
    readonly readOnlyRootFilesystem?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
  };
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

export interface PodSpec {
  readonly securityContext?: { readonly fsGroup?: number; readonly fsGroupChangePolicy?: 'OnRootMismatch' | 'Always' };
  readonly initContainers?: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes?: readonly { readonly name: string; readonly persistentVolumeClaim?: { readonly claimName: string }; readonly emptyDir?: object }[];
}

/** The Deployment's pod template. */
export function podSpec(): PodSpec {
  const deployment = kubernetes().find((d) => d.kind === 'Deployment') as { spec: { template: { spec: PodSpec } } };
  return deployment.spec.template.spec;
}

/** The Deployment's init containers and containers. */
export function podContainers(): { init: readonly Container[]; main: readonly Container[] } {
  const spec = podSpec();
  return { init: spec.initContainers ?? [], main: spec.containers };
}

/** A ConfigMap's data, by name (the first when no name is given). */
export function configMap(name?: string): Record<string, string> {
  const map = kubernetes().find((d) => d.kind === 'ConfigMap' && (name === undefined || (d.metadata as { name?: string } | undefined)?.name === name));
  if (map === undefined) throw new Error(`no ConfigMap ${name ?? ''} in docker/kubernetes/`);
  return (map as { data: Record<string, string> }).data;
}
