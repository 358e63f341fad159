// One engine per test file: started and given its images before the file's tests, stopped after them, failed or not.

import { after, before } from 'node:test';
import { engineUnavailable, startEngine, type Engine } from './engine.ts';
import { buildImages, type Images } from './images.ts';

/**
 * describe() options for engine tests: on a machine without the engine they skip with the reason;
 * with CI=true that is a failure instead.
 */
export function needsEngine(): { skip?: string } {
  const reason = engineUnavailable();
  if (reason === undefined) return {};
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
  return { skip: reason };
}

export interface EngineSuite {
  readonly engine: Engine;
  readonly images: Images;
}

/** Call inside describe(): the engine and images, available to the suite's tests once its before hook ran. */
export function engineSuite(): EngineSuite {
  let state: EngineSuite | undefined;
  let engine: Engine | undefined;
  before(async () => {
    engine = await startEngine();
    state = { engine, images: await buildImages(engine) };
  });
  after(async () => {
    await engine?.stop();
  });
  const ready = (): EngineSuite => {
    if (state === undefined) throw new Error('the engine did not start');
    return state;
  };
  return {
    get engine() {
      return ready().engine;
    },
    get images() {
      return ready().images;
    },
  };
}
