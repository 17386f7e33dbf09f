// Chevet's UI: log in, then the screen of your seat. It talks only to the hub's API and event
// stream, so the same build runs in any browser and in the desktop app.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, setToken, token, whenSessionEnds } from './api';
import { Field, toFormError, type FormError } from './components/form';
import { DEFAULT_TILES, TILE_KEY, tileUrl } from './components/MapView';
import { ROLES } from './format';
import { Admin } from './screens/Admin';
import { Dispatcher } from './screens/Dispatcher';
import { DoctorRound } from './screens/Doctor';
import { Ehpad } from './screens/Ehpad';
import { NurseInbox } from './screens/NurseInbox';
import type { Me } from './types';
import './style.css';

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(!!token());
  const [settings, setSettings] = useState(false);

  useEffect(() => {
    whenSessionEnds(() => {
      setToken(null);
      setMe(null);
    });
    if (token()) {
      get<Me>('/me')
        .then(setMe)
        .catch(() => setToken(null))
        .finally(() => setChecking(false));
    }
  }, []);

  if (checking) return <p class="loading">Chargement…</p>;
  if (!me) return <Login onIn={setMe} />;

  async function logout() {
    await post('/auth/logout').catch(() => {});
    setToken(null);
    setMe(null);
  }

  return (
    <div class={`app role-${me.role}`}>
      <header class="top">
        <span class="brand">Chevet</span>
        <span class="who" data-testid="who">
          {me.display_name} · {ROLES[me.role]}
        </span>
        <span class="spacer" />
        <button class="ghost small" onClick={() => setSettings(!settings)}>
          Réglages
        </button>
        <button class="ghost small" onClick={logout}>
          Se déconnecter
        </button>
      </header>
      {settings && <Settings />}
      <main>
        {me.role === 'dispatcher' && <Dispatcher />}
        {me.role === 'admin' && <AdminHome />}
        {(me.role === 'doctor' || me.role === 'assistant') && <DoctorRound me={me} />}
        {me.role === 'ehpad_nurse' && <Ehpad me={me} />}
        {me.role === 'partner_nurse' && <NurseInbox me={me} />}
      </main>
    </div>
  );
}

/** An admin runs the association and may also take the dispatch desk. */
function AdminHome() {
  const [desk, setDesk] = useState(false);
  return (
    <>
      <nav class="tabs">
        <button class={desk ? 'ghost' : 'on'} onClick={() => setDesk(false)}>
          Administration
        </button>
        <button class={desk ? 'on' : 'ghost'} onClick={() => setDesk(true)}>
          Standard
        </button>
      </nav>
      {desk ? <Dispatcher /> : <Admin />}
    </>
  );
}

function Settings() {
  const [tiles, setTiles] = useState(tileUrl());
  return (
    <form
      class="settings"
      onSubmit={(e) => {
        e.preventDefault();
        localStorage.setItem(TILE_KEY, tiles.trim());
        location.reload();
      }}
    >
      <label class="field wide">
        <span>Fond de carte (URL des tuiles, vide pour aucun)</span>
        <input value={tiles} onInput={(e) => setTiles((e.target as HTMLInputElement).value)} placeholder={DEFAULT_TILES} />
      </label>
      <button class="primary small" type="submit">
        Enregistrer
      </button>
    </form>
  );
}

function Login(props: { onIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      const r = await post<{ token: string; user: Me }>('/auth/login', { username, password });
      setToken(r.token);
      props.onIn(r.user);
    } catch (err) {
      const fe = toFormError(err);
      setError(err instanceof ApiError && err.status === 401 ? { field: 'password', message: fe.message } : fe);
    }
  }
  return (
    <form class="login" onSubmit={submit} aria-label="Connexion">
      <h1>Chevet</h1>
      <p class="muted">Visites à domicile des médecins de garde</p>
      <Field label="Identifiant" name="username" error={error}>
        <input value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} autoFocus autocomplete="username" />
      </Field>
      <Field label="Mot de passe" name="password" error={error}>
        <input type="password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} autocomplete="current-password" />
      </Field>
      {error && error.field !== 'password' && error.field !== 'username' && <p class="error">{error.message}</p>}
      <button class="primary" type="submit">
        Se connecter
      </button>
    </form>
  );
}

render(<App />, document.getElementById('app')!);
