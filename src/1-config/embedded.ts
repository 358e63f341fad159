// Embedded mode, decided as upstream's start script decides it: whether the proxy runs in this container.

import type { Values } from './variables.ts';

type ModeValues = Pick<Values, 'M3U_PROXY_INTEGRATION_ENABLED' | 'M3U_PROXY_ENABLED' | 'M3U_PROXY_HOST'>;

/**
 * Why the proxy does not run in this container, as the setting that says so; undefined in
 * embedded mode, which needs both M3U_PROXY_INTEGRATION_ENABLED and M3U_PROXY_ENABLED.
 */
export function notEmbedded(values: ModeValues): string | undefined {
  if (!values.M3U_PROXY_ENABLED) return 'M3U_PROXY_ENABLED=false';
  if (!values.M3U_PROXY_INTEGRATION_ENABLED) return 'M3U_PROXY_INTEGRATION_ENABLED=false';
  return undefined;
}

/** Upstream's warning, line by line, when the embedded proxy listens on more than the loopback address; none otherwise. */
export function hostWarning(values: ModeValues): string[] {
  const host = values.M3U_PROXY_HOST;
  if (notEmbedded(values) !== undefined || host === 'localhost' || host === '127.0.0.1') return [];
  return [
    '⚠️  WARNING: Embedded mode enabled but M3U_PROXY_HOST is not localhost',
    `    Current value: ${host}`,
    "    For AIO/embedded mode, M3U_PROXY_HOST should be 'localhost' or '127.0.0.1'",
  ];
}
