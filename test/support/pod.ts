// A pod of the Deployment run in the test engine as kubelet runs it: fsGroup applied to its volumes, the init
// containers to completion, then its containers, each with its user, read-only root, environment and mounts.

import assert from 'node:assert/strict';
import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defer } from './defer.ts';
import { Container, runContainer, uniqueName, volume, volumePath } from './containers.ts';
import { configMap, type Container as Spec, type PodSpec } from './docker.ts';
import type { Engine } from './engine.ts';
import type { RunResult } from './run.ts';

/** kubelet's volume_linux.go: what a volume's root needs for fsGroupChangePolicy: OnRootMismatch to skip it. */
export function needsFsGroupChange(root: string, fsGroup: number): boolean {
  const st = lstatSync(root);
  const wanted = 0o660 | 0o110;
  return st.gid !== fsGroup || !st.isDirectory() || (st.mode & wanted) !== wanted || (st.mode & 0o2000) === 0;
}

/** kubelet's SetVolumeOwnership: every entry to group `fsGroup`, group read-write, directories also x and setgid. */
function setVolumeOwnership(root: string, fsGroup: number): number {
  let changed = 0;
  const visit = (path: string): void => {
    const st = lstatSync(path);
    lchownSync(path, st.uid, fsGroup);
    if (!st.isSymbolicLink()) chmodSync(path, (st.mode & 0o7777) | 0o660 | (st.isDirectory() ? 0o110 | 0o2000 : 0));
    changed++;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return changed;
}

export interface PodStart {
  /** What the fsGroup step did to each volume: skipped (OnRootMismatch, root already right) or the entries changed. */
  readonly fsGroup: Record<string, { skipped: boolean; changed: number }>;
  readonly init: Record<string, RunResult>;
  readonly containers: Record<string, Container>;
}

export interface PodOptions {
  /** Docker volumes standing for the PersistentVolumeClaims, by claim name; they outlive the pod. */
  readonly claims: Record<string, string>;
  /** Images to run instead of those the manifest names (an image built FROM it, with a stand-in proxy). */
  readonly images?: Record<string, string>;
}

/** The pod template of a Deployment, ready to start in the engine, as often as a test restarts it. */
export class Pod {
  private readonly t: TestContext;
  private readonly engine: Engine;
  private readonly spec: PodSpec;
  private readonly options: PodOptions;

  constructor(t: TestContext, engine: Engine, spec: PodSpec, options: PodOptions) {
    this.t = t;
    this.engine = engine;
    this.spec = spec;
    this.options = options;
  }

  /** `docker run` options for a container of the pod: user, groups, root filesystem, environment, mounts. */
  private runOptions(c: Spec, volumes: Record<string, string>): string[] {
    const sc = c.securityContext ?? {};
    const fsGroup = this.spec.securityContext?.fsGroup;
    const user = sc.runAsUser === undefined ? [] : ['--user', sc.runAsGroup === undefined ? String(sc.runAsUser) : `${sc.runAsUser}:${sc.runAsGroup}`];
    const env = (c.envFrom ?? []).flatMap((from) => Object.entries(from.configMapRef === undefined ? {} : configMap(from.configMapRef.name)))
      .flatMap(([key, value]) => ['--env', `${key}=${value}`]);
    const mounts = (c.volumeMounts ?? []).flatMap((m) => {
      const source = volumes[m.name];
      assert.ok(source, `${c.name} mounts ${m.name}, which the pod does not declare`);
      return ['--mount', `type=volume,source=${source},destination=${m.mountPath},volume-nocopy`];
    });
    return [
      ...user, ...(fsGroup === undefined ? [] : ['--group-add', String(fsGroup)]),
      ...(sc.readOnlyRootFilesystem === true ? ['--read-only'] : []),
      ...(sc.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
      // kubelet runs its own probes, never the image's HEALTHCHECK.
      '--no-healthcheck', ...env, ...mounts,
      ...(c.command === undefined ? [] : ['--entrypoint', c.command[0] ?? '']),
    ];
  }

  private image(c: Spec): string {
    return this.options.images?.[c.image] ?? c.image;
  }

  /** Starts the pod: volumes (a fresh emptyDir each time), fsGroup, init containers in order, containers. */
  async start(): Promise<PodStart> {
    const volumes: Record<string, string> = {};
    const fsGroup: PodStart['fsGroup'] = {};
    const group = this.spec.securityContext?.fsGroup;
    for (const v of this.spec.volumes ?? []) {
      if (v.persistentVolumeClaim !== undefined) {
        const claim = this.options.claims[v.persistentVolumeClaim.claimName];
        assert.ok(claim, `no volume given for the claim ${v.persistentVolumeClaim.claimName}`);
        volumes[v.name] = claim;
      } else {
        assert.ok(v.emptyDir, `${v.name}: only persistentVolumeClaim and emptyDir volumes are run here`);
        volumes[v.name] = await volume(this.t, this.engine, 'empty-dir');
        chmodSync(await volumePath(this.engine, volumes[v.name] ?? ''), 0o777);
      }
      if (group === undefined) continue;
      const root = await volumePath(this.engine, volumes[v.name] ?? '');
      const skip = this.spec.securityContext?.fsGroupChangePolicy === 'OnRootMismatch' && !needsFsGroupChange(root, group);
      fsGroup[v.name] = { skipped: skip, changed: skip ? 0 : setVolumeOwnership(root, group) };
    }
    const init: PodStart['init'] = {};
    for (const c of this.spec.initContainers ?? []) {
      const name = uniqueName(c.name);
      defer(this.t, () => this.engine.docker(['rm', '--force', name]));
      const r = await this.engine.docker(['run', '--rm', '--name', name, ...this.runOptions(c, volumes), this.image(c), ...(c.command ?? []).slice(1), ...(c.args ?? [])],
        { timeout: 300_000 });
      assert.equal(r.code, 0, `init container ${c.name} failed:\n${r.stdout}${r.stderr}`);
      init[c.name] = r;
    }
    const containers: PodStart['containers'] = {};
    for (const c of this.spec.containers) {
      containers[c.name] = await runContainer(this.t, this.engine, this.runOptions(c, volumes), this.image(c), [...(c.command ?? []).slice(1), ...(c.args ?? [])]);
    }
    return { fsGroup, init, containers };
  }
}
