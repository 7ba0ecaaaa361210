// One run of the load generator in its own process, pinned to its own core; its result is the
// one JSON line it prints on stdout.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LogTail } from './log-tail.mjs';

const GENERATOR_SCRIPT = fileURLToPath(new URL('../load-generator.mjs', import.meta.url));
const GENERATOR_LOG_TAIL_LINES = 20;

/**
 * @param {{ pin: (argv: string[]) => string[], args: string[], timeoutMs: number }} spec
 *   pin prefixes a command line with the generator's placement (core, priority)
 * @returns {Promise<object>} the parsed result line
 */
export async function runGenerator({ pin, args, timeoutMs }) {
  const [command, ...rest] = pin([process.execPath, GENERATOR_SCRIPT, ...args]);
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const stderr = new LogTail(GENERATOR_LOG_TAIL_LINES);
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await once(child, 'close');
  clearTimeout(killer);

  const line = stdout.trim().split('\n').pop();
  if (code !== 0 || !line) {
    const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `failed (${signal ?? `exit code ${code}`})`;
    throw new Error(`load generator ${why}${stderr.toString() ? `\n${stderr}` : ''}`);
  }
  return JSON.parse(line);
}
