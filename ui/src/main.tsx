// Chevet's UI: log in, then the screen of your seat. It talks only to the hub's API and event
// stream, so the same build runs in any browser and in the desktop app.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, setToken, whenSessionEnds } from './api';
import { OfflineBanner } from './components/OfflineBanner';
import { unsubscribePush } from './push';
import { forgetAll, forgetReads, keepRead, somethingUnsent, startOffline } from './offline';
import { Field, toFormError, type FormError } from './components/form';
import { ROLES } from './format';
import { AccountPanel, EnrolFirst } from './screens/Account';
import { Admin } from './screens/Admin';
import { Dispatcher } from './screens/Dispatcher';
import { Journal } from './screens/Journal';
import { Roster } from './screens/Roster';
import { Statistics } from './screens/Stats';
import { DoctorRound } from './screens/Doctor';
import { Ehpad } from './screens/Ehpad';
import { NurseInbox } from './screens/NurseInbox';
import type { Me } from './types';
import './style.css';

// The UI's shell is served offline by the service worker (secure contexts only: https, localhost).
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/sw.js').catch(() => {});
}

function App() {
  const [me, setMeState] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);
  const [settings, setSettings] = useState(false);

  async function setMe(m: Me | null) {
    if (m) {
      await startOffline(m.id, m.role);
      // A reload without network finds who is logged in on this phone.
      keepRead('/me', m);
    }
    setMeState(m);
  }

  useEffect(() => {
    whenSessionEnds(() => {
      setToken(null);
      forgetReads();
      setMeState(null);
    });
    // The session outlives a reload or a killed tab: the hub's session cookie (HttpOnly, as long
    // as the session) still authenticates this browser when the tab's token is gone.
    get<Me>('/me')
      .then(setMe)
      .catch(() => setToken(null))
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="loading">Chargement…</p>;
  if (!me) return <Login onIn={setMe} />;

  async function logout() {
    if (await somethingUnsent()) {
      if (!confirm("Des éléments saisis sur ce téléphone n'ont pas encore été envoyés (réseau absent). Se déconnecter les efface. Se déconnecter quand même ?")) return;
    }
    await unsubscribePush();
    await post('/auth/logout').catch(() => {});
    await forgetAll();
    setToken(null);
    setMeState(null);
  }

  return (
    <div class={`app role-${me.role}`}>
      <header class="top">
        <span class="brand">Chevet</span>
        <span class="who" data-testid="who">
          {me.display_name} · {ROLES[me.role]}
        </span>
        <span class="spacer" />
        <button class={settings ? 'on small' : 'ghost small'} onClick={() => setSettings(!settings)} aria-expanded={settings}>
          Mon compte
        </button>
        <button class="ghost small" onClick={logout}>
          Se déconnecter
        </button>
      </header>
      <OfflineBanner />
      {settings && <AccountPanel me={me} onClose={() => setSettings(false)} />}
      {me.must_enrol_second_factor ? (
        <main>
          <EnrolFirst onEnabled={() => get<Me>('/me').then(setMe)} />
        </main>
      ) : (
      <main>
        {me.role === 'dispatcher' && <Desk />}
        {me.role === 'admin' && <Desk admin />}
        {(me.role === 'doctor' || me.role === 'assistant') && <DoctorRound me={me} />}
        {me.role === 'ehpad_nurse' && <Ehpad me={me} />}
        {me.role === 'partner_nurse' && <NurseInbox me={me} />}
      </main>
      )}
    </div>
  );
}

type DeskTab = 'admin' | 'board' | 'journal' | 'roster' | 'stats';

/**
 * The call centre's seat: the board, the call journal, the duty roster, the statistics (and,
 * for an admin, the administration). The board stays mounted behind the other tabs: a call half typed is still
 * there after a look at the journal.
 */
function Desk(props: { admin?: boolean }) {
  const [tab, setTab] = useState<DeskTab>(props.admin ? 'admin' : 'board');
  const tabs: [DeskTab, string][] = [
    ...(props.admin ? ([['admin', 'Administration']] as [DeskTab, string][]) : []),
    ['board', 'Régulation'],
    ['journal', 'Journal des appels'],
    ['roster', 'Tableau de garde'],
    ['stats', 'Statistiques'],
  ];
  const [boardSeen, setBoardSeen] = useState(tab === 'board');
  useEffect(() => {
    if (tab === 'board') setBoardSeen(true);
  }, [tab]);
  return (
    <>
      <nav class="tabs" aria-label="Écrans du standard">
        {tabs.map(([t, label]) => (
          <button key={t} class={tab === t ? 'on' : 'ghost'} aria-current={tab === t ? 'page' : undefined} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </nav>
      {boardSeen && (
        <div hidden={tab !== 'board'}>
          <Dispatcher />
        </div>
      )}
      {tab === 'admin' && <Admin />}
      {tab === 'journal' && <Journal />}
      {tab === 'roster' && <Roster />}
      {tab === 'stats' && <Statistics />}
    </>
  );
}

function Login(props: { onIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Shown once the hub says this account logs in with a second factor.
  const [askCode, setAskCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      const body = askCode ? { username, password, code } : { username, password };
      const r = await post<{ token: string; user: Me }>('/auth/login', body);
      setToken(r.token);
      props.onIn(r.user);
    } catch (err) {
      const fe = toFormError(err);
      if (err instanceof ApiError && err.code === 'second_factor_required') {
        setAskCode(true);
        setError(askCode ? { field: 'code', message: fe.message } : null);
        return;
      }
      if (err instanceof ApiError && err.status === 401) {
        setError({ field: err.field === 'code' ? 'code' : 'password', message: fe.message });
        if (err.field === 'code') setCode('');
        return;
      }
      setError(fe);
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
      {askCode && (
        <Field label="Code de l'application d'authentification" name="code" error={error}>
          <input
            value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            inputMode="numeric"
            autocomplete="one-time-code"
            maxLength={7}
            autoFocus
          />
        </Field>
      )}
      {error && !['password', 'username', 'code'].includes(error.field ?? '') && <p class="error">{error.message}</p>}
      <button class="primary" type="submit">
        Se connecter
      </button>
    </form>
  );
}

render(<App />, document.getElementById('app')!);
