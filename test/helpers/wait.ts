/** Polling waits for tests: every one names what it waited for when it times out. */

/** Polls `cond` every `pollMs` until it holds; throws naming `what` once `timeoutMs` has passed. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, pollMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Polls `probe` every `pollMs` until it returns something other than undefined, and resolves with
 * that. A probe that throws counts as not yet; the timeout names its last error.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000, pollMs = 200): Promise<T> {
  let value: T | undefined;
  let lastErr: unknown;
  const ready = async (): Promise<boolean> => {
    try {
      value = await probe();
    } catch (err) {
      lastErr = err;
    }
    return value !== undefined;
  };
  try {
    await waitUntil(ready, what, timeoutMs, pollMs);
  } catch (err) {
    if (lastErr === undefined) throw err;
    throw new Error(`${(err as Error).message}: ${(lastErr as Error).message}`);
  }
  return value!;
}
