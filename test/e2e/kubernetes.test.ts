// docker/kubernetes/ run by a real engine as kubelet runs the pod: fsGroup with OnRootMismatch, the init
// container as root, then the main container unprivileged on a read-only root, and its probes.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runOnce, volume, volumePath } from '../support/containers.ts';
import { configMap, podSpec } from '../support/docker.ts';
import { IMAGE, PROXY_IMAGE } from '../support/images.ts';
import { needsFsGroupChange, Pod } from '../support/pod.ts';
import { engineSuite, needsEngine } from '../support/suite.ts';

const CLAIM = 'm3u-editor-hls-segments';

describe('the Kubernetes manifests, run by a real engine as kubelet runs the pod', needsEngine(), () => {
  const suite = engineSuite();

  test('the init container prepares the volume as root, the main container starts unprivileged on a read-only root, and both probes pass', async (t) => {
    const { engine } = suite;
    const spec = podSpec();
    const fsGroup = spec.securityContext?.fsGroup ?? -1;
    const [main] = spec.containers;
    assert.ok(main?.readinessProbe?.exec && main.livenessProbe?.exec, 'exec probes, which run inside the pod');
    const m3ue = (await runOnce(engine, ['--entrypoint', 'id'], IMAGE, ['-u', configMap().WWWUSER ?? ''])).stdout.trim();
    const claim = await volume(t, engine, 'claim');
    const root = await volumePath(engine, claim);
    // The image in the manifests is the base; its deployment adds the proxy, as the stand-in image does.
    const pod = new Pod(t, engine, spec, { claims: { [CLAIM]: claim }, images: { [IMAGE]: PROXY_IMAGE } });

    const first = await pod.start();
    assert.deepEqual(first.fsGroup['hls-segments'], { skipped: false, changed: 1 }, 'kubelet gives a fresh volume to the fsGroup once');
    assert.match(first.init['prepare-hls']?.stdout ?? '', /✅ HLS storage configured\n/);
    const st = statSync(root);
    assert.equal(`${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`, `${m3ue}:${fsGroup} 2775`);
    assert.equal(needsFsGroupChange(root, fsGroup), false, 'as prepared, the volume is one OnRootMismatch leaves alone');

    const c = first.containers[main.name];
    assert.ok(c);
    const proxy = await c.proxyReady();
    assert.deepEqual([proxy.uid, proxy.gid], [main.securityContext?.runAsUser, main.securityContext?.runAsGroup]);
    assert.ok(proxy.groups.includes(fsGroup));
    assert.equal(proxy.env.HLS_TEMP_DIR, configMap().HLS_TEMP_DIR);
    assert.doesNotMatch(await c.logs(), /⚠️/, 'the main container finds the volume right');
    assert.notEqual((await c.exec(['touch', '/etc/written'])).code, 0, 'the root filesystem is read-only');
    const written = await c.writeSegments();
    assert.equal(written.gid, fsGroup);

    const readiness = await c.exec(main.readinessProbe.exec.command);
    assert.equal(readiness.code, 0, readiness.stdout + readiness.stderr);
    const liveness = await c.exec(main.livenessProbe.exec.command);
    assert.equal(liveness.code, 0, liveness.stdout + liveness.stderr);
    // The liveness probe can fail: with the proxy stopped, it does.
    assert.equal((await c.exec(['supervisorctl', '-s', 'unix:///tmp/supervisor.sock', 'stop', 'm3u-proxy'])).code, 0);
    assert.notEqual((await c.exec(main.livenessProbe.exec.command)).code, 0);
    assert.equal((await c.stop(30)).exitCode, 0);

    // The pod again, as after a reschedule: kubelet leaves the volume alone, the init container re-owns nothing.
    const second = await pod.start();
    assert.deepEqual(second.fsGroup['hls-segments'], { skipped: true, changed: 0 });
    assert.match(second.init['prepare-hls']?.stdout ?? '', /re-owned 0\n/);
    const again = second.containers[main.name];
    assert.ok(again);
    await again.proxyReady();
    assert.equal(await again.stat(join(written.dir, 'segment_0.ts')), `${m3ue}:${fsGroup} 0644`);
    assert.equal((await again.stop(30)).exitCode, 0);
  });
});
