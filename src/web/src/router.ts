import { useSyncExternalStore } from 'react';

/** Hash routes, as st2web's (`#/history/<id>`): execution web_url links keep working. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

let current = parse();
let currentHash = window.location.hash;
const listeners = new Set<() => void>();
window.addEventListener('hashchange', () => {
  current = parse();
  currentHash = window.location.hash;
  for (const fn of listeners) fn();
});

export function useRoute(): Route {
  useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => currentHash,
  );
  return current;
}

export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}
