// One server process under test: started pinned to its core, ready when GET /health answers 200,
// stopped with SIGTERM (then SIGKILL), with the tail of its output kept for error reports.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SERVER_LOG_TAIL_LINES,
  SERVER_READY_POLL_MS,
  SERVER_READY_TIMEOUT_MS,
  SERVER_STOP_GRACE_MS,
} from '../bench.constants.mjs';
import { LogTail } from './log-tail.mjs';

const HTTP_OK = 200;

export class ServerProcess {
  /** Set once the process has exited: `{ code, signal }`. */
  exit = null;
  /** Set when the process could not be started at all (command not found). */
  spawnError = null;

  /**
   * @param {{ label: string, argv: string[], cwd: string, env: Record<string, string>,
   *   host: string, port: number, answers?: (host: string, port: number) => Promise<boolean> }} spec
   *   argv already carries the placement prefix; `answers` tells a ready server (default: GET
   *   /health answers 200)
   */
  constructor(spec) {
    this.spec = spec;
    this.log = new LogTail(SERVER_LOG_TAIL_LINES);
    const [command, ...args] = spec.argv;
    this.child = spawn(command, args, {
      cwd: spec.cwd,
      // Only what a process needs to run, plus the server's own settings: a variable left in the
      // caller's shell (NODE_ENV, LOG_LEVEL, NODE_OPTIONS) must not change what is measured.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (chunk) => this.log.push(chunk));
    this.child.stderr.on('data', (chunk) => this.log.push(chunk));
    this.exited = once(this.child, 'exit').then(([code, signal]) => (this.exit = { code, signal }));
    this.child.once('error', (error) => (this.spawnError = error));
  }

  /** The pid of the server itself: taskset execs it, so no wrapper process sits in between. */
  get pid() {
    return this.child.pid;
  }

  /** Resolves once the server answers (/health with 200); throws with its last output otherwise. */
  async ready() {
    const { host, port, answers = healthAnswersOk } = this.spec;
    const deadline = performance.now() + SERVER_READY_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (this.spawnError) throw this.failure(`could not start: ${this.spawnError.message}`);
      if (this.exit) throw this.failure(`exited before it was ready (${describeExit(this.exit)})`);
      if (await answers(host, port)) return;
      await sleep(SERVER_READY_POLL_MS);
    }
    throw this.failure(`not ready after ${SERVER_READY_TIMEOUT_MS} ms`);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  async stop() {
    if (this.exit || this.spawnError) return this.exit;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), SERVER_STOP_GRACE_MS);
    await this.exited;
    clearTimeout(killer);
    return this.exit;
  }

  /** An error naming the server, with the tail of its output. */
  failure(what) {
    const output = this.log.toString();
    return new Error(`${this.spec.label} ${what}${output ? `\n--- last output ---\n${output}` : ''}`);
  }
}

async function healthAnswersOk(host, port) {
  try {
    const response = await fetch(`http://${host}:${port}/health`);
    await response.arrayBuffer();
    return response.status === HTTP_OK;
  } catch {
    return false;
  }
}

export function describeExit({ code, signal }) {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}
