// One's own account, from every seat (« Mon compte »): change one's password, the second factor
// (an authenticator app's 6-digit codes), one's open sessions (close the one left on a phone),
// for a doctor the delegations of his rights (accept the one an admin proposed), and the map
// tiles of this browser. Also the enrolment screen an admin sees first when the association
// requires a second factor, and the banner of delegations waiting for the doctor.

import { useEffect, useState } from 'preact/hooks';
import {
  acceptDelegation,
  beginSecondFactor,
  changePassword,
  confirmSecondFactor,
  delegations,
  disableSecondFactor,
  endDelegation,
  endOtherSessions,
  endSession,
  mySessions,
  secondFactor,
} from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { DEFAULT_TILES, TILE_KEY, tileUrl } from '../components/MapView';
import { dateTime } from '../format';
import type { Delegation, Enrolment, Me, SecondFactor, SessionInfo } from '../types';

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function AccountPanel(props: { me: Me; onClose: () => void }) {
  return (
    <section class="account" aria-label="Mon compte">
      <header class="account-head">
        <h2>Mon compte</h2>
        <button class="ghost small" onClick={props.onClose}>
          Fermer
        </button>
      </header>
      {props.me.role === 'doctor' && <MyDelegations />}
      <PasswordChange />
      <SecondFactorBox />
      <Sessions />
      <Tiles />
    </section>
  );
}

function PasswordChange() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  const [done, setDone] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await changePassword(current, next);
      setCurrent('');
      setNext('');
      setDone(true);
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <form class="account-box" onSubmit={submit} aria-label="Mot de passe">
      <h3>Mot de passe</h3>
      <Field label="Mot de passe actuel" name="current_password" error={error}>
        <input type="password" value={current} onInput={(e) => setCurrent(value(e))} autocomplete="current-password" required />
      </Field>
      <Field label="Nouveau mot de passe (12 caractères au moins, une phrase de quelques mots)" name="new_password" error={error}>
        <input type="password" value={next} onInput={(e) => setNext(value(e))} autocomplete="new-password" minLength={12} required />
      </Field>
      <FormMessage error={error} shown={['current_password', 'new_password']} />
      {done && <p class="notice">Mot de passe changé. Vos autres sessions sont fermées.</p>}
      <button class="primary small" type="submit">
        Changer le mot de passe
      </button>
    </form>
  );
}

/** The secret in groups of four, as authenticator apps ask for it when typed by hand. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

/** Turning the second factor on (two steps: scan, then type a first code) or off. */
export function SecondFactorBox(props: { onEnabled?: () => void }) {
  const [state, setState] = useState<SecondFactor | null>(null);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  const load = () => secondFactor().then(setState).catch((e) => setError(toFormError(e)));
  useEffect(() => {
    load();
  }, []);
  // The QR code is the hub's SVG, shown as an image (never inserted as markup).
  useEffect(() => {
    if (!enrolment) return;
    const url = URL.createObjectURL(new Blob([enrolment.qr_svg], { type: 'image/svg+xml' }));
    setQr(url);
    return () => URL.revokeObjectURL(url);
  }, [enrolment]);

  async function begin() {
    setError(null);
    try {
      setEnrolment(await beginSecondFactor());
    } catch (e) {
      setError(toFormError(e));
    }
  }
  async function confirm(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await confirmSecondFactor(code);
      setEnrolment(null);
      setCode('');
      await load();
      props.onEnabled?.();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  async function disable(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await disableSecondFactor(code);
      setCode('');
      await load();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  const codeInput = (
    <Field label="Code à 6 chiffres de l'application" name="code" error={error}>
      <input
        value={code}
        onInput={(e) => setCode(value(e))}
        inputMode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9 ]{6,7}"
        maxLength={7}
        required
      />
    </Field>
  );
  return (
    <div class="account-box" aria-label="Double authentification">
      <h3>Double authentification</h3>
      {state?.enabled && (
        <>
          <p>
            Active : chaque connexion demande le code de votre application d'authentification.
            {state.required && " L'association l'exige pour votre compte."}
          </p>
          {!state.required && (
            <form onSubmit={disable}>
              {codeInput}
              <FormMessage error={error} shown={['code']} />
              <button class="ghost small" type="submit">
                Désactiver
              </button>
            </form>
          )}
        </>
      )}
      {state && !state.enabled && !enrolment && (
        <>
          <p class="muted">
            Un code à 6 chiffres, affiché par une application d'authentification sur votre téléphone, en plus du mot de passe.
          </p>
          <FormMessage error={error} shown={[]} />
          <button class="primary small" onClick={begin}>
            Activer la double authentification
          </button>
        </>
      )}
      {enrolment && (
        <form onSubmit={confirm} class="enrol">
          <p>1. Ajoutez ce compte dans votre application d'authentification :</p>
          <div class="enrol-ways">
            {qr && <img class="qr" src={qr} alt="QR code du compte pour l'application d'authentification" width={180} height={180} />}
            <div>
              <a class="button ghost small" href={enrolment.otpauth_url}>
                Ouvrir dans l'application (sur ce téléphone)
              </a>
              <p class="muted">ou saisissez la clé :</p>
              <code class="secret" data-testid="totp-secret">
                {grouped(enrolment.secret)}
              </code>
            </div>
          </div>
          <p>2. Saisissez le code qu'elle affiche :</p>
          {codeInput}
          <FormMessage error={error} shown={['code']} />
          <button class="primary small" type="submit">
            Confirmer
          </button>
        </form>
      )}
    </div>
  );
}

/** A session's device, in a few words, from its browser's User-Agent. */
export function deviceOf(ua: string | null): string {
  if (!ua) return 'Appareil inconnu';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iPhone / iPad'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'Mac'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : null;
  const parts = [browser, os].filter(Boolean);
  return parts.length ? parts.join(' · ') : ua.slice(0, 40);
}

/**
 * A list read from the hub, and `act(f)`: a click handler that runs `f` then reads the list again;
 * a failure of either is kept in `error`.
 */
function useReloadedList<T>(read: () => Promise<T[]>) {
  const [list, setList] = useState<T[]>([]);
  const [error, setError] = useState<FormError | null>(null);
  const load = () => read().then(setList).catch((e) => setError(toFormError(e)));
  useEffect(() => {
    load();
  }, []);
  const act = (f: () => Promise<unknown>) => () =>
    f()
      .then(load)
      .catch((e) => setError(toFormError(e)));
  return { list, error, act };
}

function Sessions() {
  const { list, error, act } = useReloadedList<SessionInfo>(mySessions);
  const others = list.filter((s) => !s.current).length;
  return (
    <div class="account-box" aria-label="Mes sessions">
      <h3>Mes sessions ouvertes</h3>
      <ul class="sessions">
        {list.map((s) => (
          <li key={s.id} class={s.current ? 'current' : ''}>
            <span>
              <strong>{deviceOf(s.user_agent)}</strong>
              {s.current && <span class="chip">cette session</span>}
              <br />
              <small class="muted">
                Ouverte le {dateTime(s.created_at)}
                {s.address && ` depuis ${s.address}`} · dernière activité {dateTime(s.last_seen_at)} · fin au plus tard{' '}
                {dateTime(s.expires_at)}
              </small>
            </span>
            {!s.current && (
              <button class="ghost small" onClick={act(() => endSession(s.id))}>
                Fermer
              </button>
            )}
          </li>
        ))}
      </ul>
      <FormMessage error={error} shown={[]} />
      {others > 1 && (
        <button class="ghost small" onClick={act(endOtherSessions)}>
          Fermer les {others} autres sessions
        </button>
      )}
    </div>
  );
}

/** A doctor's delegations: those in force, and those an admin proposed, to accept or refuse. */
function MyDelegations() {
  const { list, error, act } = useReloadedList<Delegation>(delegations);
  return (
    <div class="account-box" aria-label="Délégations">
      <h3>Mes délégations</h3>
      {list.length === 0 && <p class="muted">Aucune assistante n'agit pour vous.</p>}
      <ul class="delegations">
        {list.map((d) => (
          <li key={d.id}>
            <span>
              {d.assistant_name}{' '}
              {d.accepted_at ? (
                <small class="muted">agit pour vous depuis le {dateTime(d.accepted_at)}</small>
              ) : (
                <span class="chip warn">en attente de votre accord</span>
              )}
            </span>
            <span class="buttons">
              {!d.accepted_at && (
                <button class="primary small" onClick={act(() => acceptDelegation(d.id))}>
                  Accepter
                </button>
              )}
              <button class="ghost small" onClick={act(() => endDelegation(d.id))}>
                {d.accepted_at ? 'Retirer' : 'Refuser'}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <FormMessage error={error} shown={[]} />
    </div>
  );
}

/** On the doctor's round: a delegation an admin proposed, to accept or refuse in one tap. */
export function PendingDelegations() {
  const { list, error, act } = useReloadedList<Delegation>(() => delegations().then((all) => all.filter((d) => !d.accepted_at)));
  if (list.length === 0) return null;
  return (
    <div class="notice-box pending-delegations" role="status">
      {list.map((d) => (
        <p key={d.id}>
          L'administration propose que <strong>{d.assistant_name}</strong> agisse pour vous (préparer vos comptes rendus,
          suivre vos visites). Elle n'aura accès à vos patients qu'avec votre accord.{' '}
          <button class="primary small" onClick={act(() => acceptDelegation(d.id))}>
            Accepter
          </button>{' '}
          <button class="ghost small" onClick={act(() => endDelegation(d.id))}>
            Refuser
          </button>
        </p>
      ))}
      <FormMessage error={error} shown={[]} />
    </div>
  );
}

/** What an admin sees first when the association requires a second factor and he has none. */
export function EnrolFirst(props: { onEnabled: () => void }) {
  return (
    <section class="account enrol-first">
      <h2>Double authentification obligatoire</h2>
      <p>
        L'association exige un second facteur pour les comptes d'administration. Activez-le pour continuer : vous
        aurez besoin d'une application d'authentification sur votre téléphone.
      </p>
      <SecondFactorBox onEnabled={props.onEnabled} />
    </section>
  );
}

function Tiles() {
  const [tiles, setTiles] = useState(tileUrl());
  return (
    <form
      class="account-box"
      aria-label="Fond de carte"
      onSubmit={(e) => {
        e.preventDefault();
        localStorage.setItem(TILE_KEY, tiles.trim());
        location.reload();
      }}
    >
      <h3>Fond de carte de ce navigateur</h3>
      <Field label="URL des tuiles (vide pour aucune)" name="tiles" wide>
        <input value={tiles} onInput={(e) => setTiles(value(e))} placeholder={DEFAULT_TILES} />
      </Field>
      <button class="primary small" type="submit">
        Enregistrer
      </button>
    </form>
  );
}
