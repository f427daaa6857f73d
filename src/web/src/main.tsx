import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { get, logout, maybeSignedIn, onUnauthorized, type CurrentUser } from './api';
import { closeStream, useStreamState } from './live';
import { useRoute } from './router';
import { ErrorBox, Loading, makeCan, SessionContext, type Grant, type Session } from './ui';
import {
  Login,
  History,
  ExecutionDetail,
  Actions,
  Rules,
  Packs,
  Triggers,
  Inquiries,
  Datastore,
  ChatLog,
  ChatLinkConfirm,
  ChatLinks,
  Dashboard,
  Trace,
} from './pages/index';
import './styles.css';

const NAV: [string, string][] = [
  ['dashboard', 'Dashboard'],
  ['history', 'History'],
  ['actions', 'Actions'],
  ['rules', 'Rules'],
  ['packs', 'Packs'],
  ['triggers', 'Triggers'],
  ['inquiries', 'Inquiries'],
  ['datastore', 'Datastore'],
  ['chatlog', 'Chat log'],
  ['chatlinks', 'Chat links'],
];

type Theme = 'light' | 'dark';

function useTheme(): [Theme, () => void] {
  const initial =
    (localStorage.getItem('squall-theme') as Theme | null) ??
    (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('squall-theme', theme);
  }, [theme]);
  return [theme, () => setTheme((t) => (t === 'dark' ? 'light' : 'dark'))];
}

function StreamIndicator() {
  const state = useStreamState();
  // a page without live content opens no stream: saying "connecting" there would never end
  if (state === 'idle') return null;
  const text = state === 'open' ? 'live' : state === 'connecting' ? 'connecting' : 'offline';
  return (
    <span className={`stream stream-${state}`} title={`Live updates: ${text}`} role="status">
      ● {text}
    </span>
  );
}

function Page() {
  const route = useRoute();
  const [section = 'dashboard', id, ...rest] = route.parts;
  switch (section) {
    case 'dashboard':
      return <Dashboard />;
    case 'history':
      return id ? <ExecutionDetail id={id} key={id} /> : <History />;
    case 'actions':
      return <Actions selected={id ? [id, ...rest].join('/') : undefined} />;
    case 'rules':
      return <Rules selected={id} mode={rest[0]} />;
    case 'packs':
      return <Packs selected={id} />;
    case 'triggers':
      return <Triggers selected={id} />;
    case 'inquiries':
      return <Inquiries selected={id} />;
    case 'datastore':
      return <Datastore />;
    case 'chatlog':
      return <ChatLog />;
    case 'chat-link':
      return id ? <ChatLinkConfirm token={id} key={id} /> : <ChatLinks linked={false} />;
    case 'chatlinks':
      return <ChatLinks linked={route.query.get('linked') === '1'} />;
    case 'trace':
      return <Trace from={id} id={rest[0]} />;
    default:
      return <ErrorBox error={new Error(`No page "${section}"`)} />;
  }
}

function App() {
  const [theme, toggleTheme] = useTheme();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const route = useRoute();

  const load = useCallback(async () => {
    if (!maybeSignedIn()) {
      setSession(null);
      return;
    }
    try {
      const user = await get<CurrentUser>('/api/v1/user');
      let grants: Grant[] | undefined = [];
      if (user.rbac.enabled && !user.rbac.is_admin) {
        try {
          const roles = await Promise.all(
            user.rbac.roles.map((r) =>
              get<{ permission_grants?: Grant[] }>(`/api/v1/rbac/roles/${encodeURIComponent(r)}`),
            ),
          );
          grants = roles.flatMap((r) => r.permission_grants ?? []);
        } catch {
          grants = undefined; // cannot read role definitions: let the server decide
        }
      }
      setSession({ user, can: makeCan(user, grants) });
      setError(undefined);
    } catch (err) {
      if ((err as { status?: number }).status === 401) setSession(null);
      else setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
    return onUnauthorized(() => {
      closeStream();
      setSession(null);
    });
  }, [load]);

  const section = route.parts[0] ?? 'dashboard';
  if (error)
    return (
      <main className="centered">
        <ErrorBox error={error} onRetry={load} />
      </main>
    );
  if (session === undefined)
    return (
      <main className="centered">
        <Loading />
      </main>
    );
  if (session === null) return <Login onLogin={load} theme={theme} onToggleTheme={toggleTheme} />;
  return (
    <SessionContext.Provider value={session}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href="#/dashboard">
          Squall
        </a>
        <nav aria-label="Main">
          {NAV.map(([key, label]) => (
            <a key={key} href={`#/${key}`} aria-current={section === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <StreamIndicator />
          <button
            type="button"
            onClick={toggleTheme}
            aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <span className="muted" data-testid="username">
            {session.user.username}
          </span>
          <button
            type="button"
            onClick={async () => {
              closeStream();
              await logout();
              setSession(null);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page />
      </main>
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
