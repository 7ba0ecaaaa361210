import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FRAGMENT_DEADLINE_REASON,
  FRAGMENT_SWEEP_MS,
  type FragmentClient,
  startFragmentDeadline,
} from './fragment-deadline.js';

interface Stub extends FragmentClient {
  message: object | undefined;
  closed: Array<[number, string]>;
}

function stub(): Stub {
  const client: Stub = {
    socket: {},
    isOpen: true,
    message: undefined,
    closed: [],
    close: (code, reason) => void client.closed.push([code, reason]),
  };
  return client;
}

describe('startFragmentDeadline', () => {
  const DEADLINE_MS = 10_000;
  let clients: Stub[];
  let onClose: ReturnType<typeof vi.fn<(client: Stub) => void>>;
  let deadline: { stop(): void };

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    clients = [stub(), stub()];
    onClose = vi.fn<(client: Stub) => void>();
    deadline = startFragmentDeadline(
      () => clients,
      onClose,
      DEADLINE_MS,
      (c) => c.message,
    );
  });
  afterEach(() => {
    deadline.stop();
    vi.useRealTimers();
  });

  it('closes with 1008 a client whose message stays unfinished past the deadline, and only it', () => {
    const [stalled, bystander] = clients as [Stub, Stub];
    stalled.message = [];
    vi.advanceTimersByTime(DEADLINE_MS);
    expect(stalled.closed).toEqual([]);
    vi.advanceTimersByTime(FRAGMENT_SWEEP_MS);
    expect(stalled.closed).toEqual([[1008, FRAGMENT_DEADLINE_REASON]]);
    expect(onClose).toHaveBeenCalledExactlyOnceWith(stalled);
    expect(bystander.closed).toEqual([]);
  });

  it('never closes a client that finishes each message in time, however many it sends', () => {
    const [client] = clients as [Stub];
    for (let i = 0; i < 30; i++) {
      client.message = [];
      vi.advanceTimersByTime(DEADLINE_MS / 2);
    }
    expect(client.closed).toEqual([]);
  });

  it('counts from the start of the unfinished message, not from the last fragment', () => {
    const [client] = clients as [Stub];
    client.message = [];
    vi.advanceTimersByTime(FRAGMENT_SWEEP_MS);
    client.message = undefined;
    vi.advanceTimersByTime(FRAGMENT_SWEEP_MS);
    client.message = [];
    vi.advanceTimersByTime(DEADLINE_MS);
    expect(client.closed).toEqual([]);
    vi.advanceTimersByTime(FRAGMENT_SWEEP_MS);
    expect(client.closed).toHaveLength(1);
  });

  it('leaves closing clients alone, and stops with stop()', () => {
    const [closing, other] = clients as [Stub, Stub];
    (closing as { isOpen: boolean }).isOpen = false;
    closing.message = [];
    other.message = [];
    deadline.stop();
    vi.advanceTimersByTime(3 * DEADLINE_MS);
    expect(closing.closed).toEqual([]);
    expect(other.closed).toEqual([]);
  });
});
