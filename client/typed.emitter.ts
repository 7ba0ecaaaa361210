type Listener<P> = (payload: P) => unknown;

/**
 * Listeners per event, kept as arrays that are replaced, never mutated: an emit in progress keeps
 * iterating the array it started with, so `on`/`off` from inside a listener is safe and emitting
 * allocates nothing.
 */
export class TypedEmitter<M> {
  private readonly listeners = new Map<keyof M, readonly Listener<never>[]>();

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    this.listeners.set(event, [...this.listenersOf(event), listener]);
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    const current = this.listenersOf(event);
    const index = current.indexOf(listener);
    if (index === -1) return;
    this.listeners.set(event, [...current.slice(0, index), ...current.slice(index + 1)]);
  }

  listenersOf<K extends keyof M>(event: K): readonly Listener<M[K]>[] {
    return (this.listeners.get(event) ?? []) as readonly Listener<M[K]>[];
  }

  /**
   * A throwing listener must not break the client's state machine or starve the listeners after
   * it, so its error is rethrown on its own stack, where the host reports it as uncaught.
   */
  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const listener of this.listenersOf(event)) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
