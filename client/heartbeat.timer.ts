export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly ping: () => void;
  /** Called once when no frame arrived within `timeoutMs` of a ping. */
  readonly onDead: () => void;
}

export interface Heartbeat {
  /** Any frame from the server proves the link alive, not only a pong. */
  alive(): void;
  stop(): void;
}

/**
 * App-level heartbeat: browsers can neither send nor see protocol pings, so the client pings with
 * a frame and treats silence after it as a dead link.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  let deadline: ReturnType<typeof setTimeout> | undefined;

  const interval = setInterval(() => {
    options.ping();
    deadline ??= setTimeout(() => {
      stop();
      options.onDead();
    }, options.timeoutMs);
  }, options.intervalMs);
  // The open socket keeps a Node process alive; the heartbeat on its own must not.
  unref(interval);

  function stop(): void {
    clearInterval(interval);
    clearTimeout(deadline);
    deadline = undefined;
  }

  return {
    alive() {
      if (deadline === undefined) return;
      clearTimeout(deadline);
      deadline = undefined;
    },
    stop,
  };
}

/** Browsers return a number from `setInterval`, Node an object with `unref`. */
function unref(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') {
    timer.unref();
  }
}
