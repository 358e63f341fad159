#!/usr/bin/env node
// A stand-in for m3u-proxy: reports the process it runs in and the environment it received.
// `--out FILE` writes the report as JSON (for tests); otherwise it prints the proxy's variables.
import { writeFileSync } from 'node:fs';

const PROXY_VARIABLES = ['HOST', 'PORT', 'LOG_LEVEL', 'API_TOKEN', 'REDIS_HOST', 'REDIS_SERVER_PORT', 'REDIS_DB', 'REDIS_ENABLED',
  'ENABLE_TRANSCODING_POOLING', 'HLS_TEMP_DIR', 'HLS_GC_ENABLED', 'HLS_GC_INTERVAL', 'HLS_GC_AGE_THRESHOLD', 'HLS_BROADCAST_DIR', 'BROADCAST_GC_ENABLED'];

const report = {
  pid: process.pid,
  ppid: process.ppid,
  uid: process.getuid(),
  gid: process.getgid(),
  groups: process.getgroups(),
  home: process.env.HOME,
  argv: process.argv.slice(2),
  env: process.env,
};

const out = process.argv.indexOf('--out');
if (out >= 0 && process.argv[out + 1]) {
  writeFileSync(process.argv[out + 1], JSON.stringify(report));
} else {
  console.log(`m3u-proxy stand-in: pid ${report.pid}, uid ${report.uid}, gid ${report.gid}`);
  for (const name of [...PROXY_VARIABLES, ...Object.keys(process.env).filter((n) => n.startsWith('M3U_')).sort()]) {
    if (process.env[name] === undefined) continue;
    const secret = name === 'API_TOKEN' || name === 'M3U_PROXY_TOKEN';
    console.log(`  ${name}=${secret ? `<${process.env[name].length} characters>` : process.env[name]}`);
  }
}
