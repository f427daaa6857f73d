import { useEffect, useRef, useSyncExternalStore } from 'react';

/**
 * One shared EventSource on /stream/v1/stream for the whole page (the cookie authenticates it).
 * Executions come without their result: pages fetch results on demand, so a 5 MB result never
 * travels through the live stream.
 */
type Handler = (data: unknown) => void;
/** idle: no page wants live events, so there is no connection (not one being made). */
export type StreamState = 'idle' | 'connecting' | 'open' | 'down';

const EVENTS = ['st2.execution__create', 'st2.execution__update', 'st2.execution.output__create'];
const handlers = new Map<string, Set<Handler>>();
let source: EventSource | undefined;
let state: StreamState = 'idle';
const stateListeners = new Set<() => void>();

function setState(s: StreamState) {
  if (s === state) return;
  state = s;
  for (const fn of stateListeners) fn();
}

function open() {
  if (source) return;
  setState('connecting');
  source = new EventSource(`/stream/v1/stream?events=${EVENTS.join(',')}&exclude_attributes=result`);
  source.onopen = () => setState('open');
  source.onerror = () => setState(source?.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  for (const name of EVENTS) {
    source.addEventListener(name, (e) => {
      let data: unknown;
      try {
        data = JSON.parse((e as MessageEvent<string>).data);
      } catch {
        return;
      }
      for (const h of handlers.get(name) ?? []) h(data);
    });
  }
}

function maybeClose() {
  if ([...handlers.values()].every((s) => s.size === 0)) {
    source?.close();
    source = undefined;
    setState('idle');
  }
}

export function subscribe(name: string, handler: Handler): () => void {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name)!.add(handler);
  open();
  return () => {
    handlers.get(name)?.delete(handler);
    // Let a page switch re-subscribe before the connection is dropped.
    setTimeout(maybeClose, 1000);
  };
}

export function useLiveEvent(name: string, handler: Handler, deps: unknown[]): void {
  useEffect(() => subscribe(name, handler), deps); // eslint-disable-line react-hooks/exhaustive-deps
}

export function useStreamState(): StreamState {
  return useSyncExternalStore(
    (fn) => {
      stateListeners.add(fn);
      return () => stateListeners.delete(fn);
    },
    () => state,
  );
}

/**
 * Calls `fn` each time the live stream opens while the page is shown (not when it was open
 * already): what was published before, while it connected or was down, never arrives, so a page
 * that read before then reads again.
 */
export function useStreamOpened(fn: () => void): void {
  const state = useStreamState();
  const was = useRef(state);
  useEffect(() => {
    if (state === 'open' && was.current !== 'open') fn();
    was.current = state;
  }, [state]); // eslint-disable-line react-hooks/exhaustive-deps
}

export function closeStream(): void {
  handlers.clear();
  source?.close();
  source = undefined;
  setState('idle');
}
