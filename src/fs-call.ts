// node:fs's callback API as promises, in libuv's pool: node:fs/promises would load a dozen modules more (readline among them) at every start.

/** Calls `start` with a node:fs callback; settles with what that is called back with. */
export function fsCall<T>(start: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error === null) resolve(value);
      else reject(error);
    });
  });
}
