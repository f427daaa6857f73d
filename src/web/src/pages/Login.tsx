import { useState, type FormEvent } from 'react';
import { login } from '../api';
import { ErrorBox } from '../ui';

export function Login({ onLogin, theme, onToggleTheme }: { onLogin: () => void; theme: string; onToggleTheme: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(username, password);
      onLogin();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="centered">
      <form className="login card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Squall</h1>
        <p className="muted">Sign in to run and watch automations.</p>
        <label htmlFor="login-user">Username</label>
        <input id="login-user" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} required />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <button type="button" className="link small" onClick={onToggleTheme}>
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </form>
    </main>
  );
}
