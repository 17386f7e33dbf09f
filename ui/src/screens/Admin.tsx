// Administration: accounts, delegations of a doctor's rights to an assistant, the association's
// letterhead and MSSanté mailbox (letters to treating physicians leave from it), partner nurse
// networks (and, for a hub that is one, its client associations and its nurses), the audit trail.

import { useEffect, useState } from 'preact/hooks';
import { del, get, nurseNetworks, patch, post, put } from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { dateTime, ROLES } from '../format';
import type { NurseNetwork, Role } from '../types';
import { NurseNetworkAdmin, PartnerNetworks } from './AdminNurses';

interface User {
  id: number;
  username: string;
  display_name: string;
  role: Role;
  institution_id: number | null;
  network_id: number | null;
  disabled_at: string | null;
  rpps: string | null;
}

interface Delegation {
  id: number;
  doctor_id: number;
  doctor_name: string;
  assistant_id: number;
  assistant_name: string;
  created_at: string;
  /** Null until the doctor accepts: the assistant has no right before. */
  accepted_at: string | null;
}

interface AuditEntry {
  id: number;
  at: string;
  actor_name: string | null;
  on_behalf_of_name: string | null;
  action: string;
  entity_type: string;
  entity_id: number;
  changes: unknown;
}

export function Admin() {
  const [tab, setTab] = useState<'users' | 'delegations' | 'association' | 'nurses' | 'clients' | 'audit'>('users');
  return (
    <div class="admin">
      <nav class="tabs">
        <button class={tab === 'users' ? 'on' : 'ghost'} onClick={() => setTab('users')}>
          Comptes
        </button>
        <button class={tab === 'delegations' ? 'on' : 'ghost'} onClick={() => setTab('delegations')}>
          Délégations
        </button>
        <button class={tab === 'association' ? 'on' : 'ghost'} onClick={() => setTab('association')}>
          Association
        </button>
        <button class={tab === 'nurses' ? 'on' : 'ghost'} onClick={() => setTab('nurses')}>
          Réseaux infirmiers
        </button>
        <button class={tab === 'clients' ? 'on' : 'ghost'} onClick={() => setTab('clients')}>
          Réseau hébergé
        </button>
        <button class={tab === 'audit' ? 'on' : 'ghost'} onClick={() => setTab('audit')}>
          Journal d'audit
        </button>
      </nav>
      {tab === 'users' && <Users />}
      {tab === 'delegations' && <Delegations />}
      {tab === 'association' && <AssociationForm />}
      {tab === 'nurses' && <PartnerNetworks />}
      {tab === 'clients' && <NurseNetworkAdmin />}
      {tab === 'audit' && <Audit />}
    </div>
  );
}

interface Association {
  name: string;
  address_line: string | null;
  postcode: string | null;
  city: string | null;
  phone: string | null;
  mssante: string | null;
}

const ASSOCIATION_FIELDS: { key: keyof Association; label: string; wide?: boolean; type?: string }[] = [
  { key: 'name', label: 'Nom', wide: true },
  { key: 'address_line', label: 'Adresse', wide: true },
  { key: 'postcode', label: 'Code postal' },
  { key: 'city', label: 'Commune' },
  { key: 'phone', label: 'Téléphone' },
  { key: 'mssante', label: 'Adresse MSSanté (envoi des lettres)', wide: true, type: 'email' },
];

/** The association as its letters present it; its MSSanté mailbox sends them. */
function AssociationForm() {
  const [f, setF] = useState<Record<keyof Association, string> | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const fill = (a: Association) =>
    setF(Object.fromEntries(ASSOCIATION_FIELDS.map(({ key }) => [key, a[key] ?? ''])) as Record<keyof Association, string>);
  useEffect(() => {
    get<Association>('/association')
      .then(fill)
      .catch((e) => {
        setError(toFormError(e));
        fill({ name: '', address_line: null, postcode: null, city: null, phone: null, mssante: null });
      });
  }, []);
  if (!f) return <p class="loading">Chargement…</p>;
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setSaved(null);
    const body = Object.fromEntries(ASSOCIATION_FIELDS.map(({ key }) => [key, f![key].trim() || (key === 'name' ? '' : null)]));
    try {
      fill(await put<Association>('/association', body));
      setSaved('Enregistré.');
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <section class="panel">
      <form class="form" onSubmit={submit} aria-label="Association">
        <p class="muted">Ces coordonnées figurent sur les lettres aux médecins traitants, envoyées depuis l'adresse MSSanté de l'association (sauf si le médecin a la sienne).</p>
        <div class="row">
          {ASSOCIATION_FIELDS.map(({ key, label, wide, type }) => (
            <Field key={key} label={label} name={key} error={error} wide={wide}>
              <input type={type ?? 'text'} value={f[key]} onInput={(e) => setF({ ...f, [key]: (e.target as HTMLInputElement).value })} />
            </Field>
          ))}
        </div>
        <FormMessage error={error} shown={ASSOCIATION_FIELDS.map((x) => x.key)} />
        {saved && <p class="notice">{saved}</p>}
        <button class="primary" type="submit">
          Enregistrer
        </button>
      </form>
    </section>
  );
}

function Users() {
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<FormError | null>(null);
  const [f, setF] = useState({ username: '', display_name: '', role: 'dispatcher', password: '', rpps: '', institution_id: '', network_id: '' });
  const [networks, setNetworks] = useState<NurseNetwork[] | null>(null);
  const load = () => get<User[]>('/users').then(setUsers).catch((e) => setError(toFormError(e)));
  useEffect(() => {
    load();
  }, []);
  // A partner nurse belongs to one of the networks this hub hosts.
  useEffect(() => {
    if (f.role === 'partner_nurse' && networks == null) {
      nurseNetworks()
        .then(setNetworks)
        .catch(() => setNetworks([]));
    }
  }, [f.role]);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await post('/users', {
        username: f.username,
        display_name: f.display_name,
        role: f.role,
        password: f.password,
        doctor: f.role === 'doctor' ? { rpps: f.rpps } : undefined,
        institution_id: f.role === 'ehpad_nurse' ? Number(f.institution_id) : undefined,
        network_id: f.role === 'partner_nurse' ? Number(f.network_id || networks?.[0]?.id) || undefined : undefined,
      });
      setF({ ...f, username: '', display_name: '', password: '', rpps: '' });
      load();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  async function toggle(u: User) {
    try {
      await patch(`/users/${u.id}`, { disabled: !u.disabled_at });
      load();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <section class="panel">
      <form class="form" onSubmit={submit} aria-label="Nouveau compte">
        <div class="row">
          <Field label="Identifiant" name="username" error={error}>
            <input value={f.username} onInput={set('username')} />
          </Field>
          <Field label="Nom affiché" name="display_name" error={error}>
            <input value={f.display_name} onInput={set('display_name')} />
          </Field>
          <Field label="Rôle" name="role" error={error}>
            <select value={f.role} onChange={set('role')}>
              {Object.entries(ROLES).map(([k, v]) => (
                <option value={k} key={k}>
                  {v}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Mot de passe (12 caractères ou plus : quelques mots)" name="password" error={error}>
            <input type="password" value={f.password} onInput={set('password')} autocomplete="new-password" />
          </Field>
          {f.role === 'doctor' && (
            <Field label="RPPS" name="doctor.rpps" error={error}>
              <input value={f.rpps} onInput={set('rpps')} inputMode="numeric" />
            </Field>
          )}
          {f.role === 'ehpad_nurse' && (
            <Field label="N° d'établissement" name="institution_id" error={error}>
              <input value={f.institution_id} onInput={set('institution_id')} inputMode="numeric" />
            </Field>
          )}
          {f.role === 'partner_nurse' && (
            <Field label="Réseau infirmier" name="network_id" error={error}>
              <select value={f.network_id || String(networks?.[0]?.id ?? '')} onChange={set('network_id')}>
                {(networks ?? []).map((n) => (
                  <option value={n.id} key={n.id}>
                    {n.name}
                  </option>
                ))}
              </select>
            </Field>
          )}
        </div>
        <FormMessage error={error} shown={['username', 'display_name', 'password', 'doctor.rpps', 'institution_id', 'network_id']} />
        <button class="primary" type="submit">
          Créer le compte
        </button>
      </form>
      <table class="list">
        <thead>
          <tr>
            <th>Identifiant</th>
            <th>Nom</th>
            <th>Rôle</th>
            <th>État</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} class={u.disabled_at ? 'disabled' : ''}>
              <td>{u.username}</td>
              <td>{u.display_name}</td>
              <td>{ROLES[u.role]}</td>
              <td>
                <button class="ghost small" onClick={() => toggle(u)}>
                  {u.disabled_at ? 'Réactiver' : 'Désactiver'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Delegations() {
  const [list, setList] = useState<Delegation[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [doctor, setDoctor] = useState('');
  const [assistant, setAssistant] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  const load = () => {
    get<Delegation[]>('/delegations').then(setList).catch(() => {});
    get<User[]>('/users').then(setUsers).catch(() => {});
  };
  useEffect(load, []);
  async function grant(e: Event) {
    e.preventDefault();
    try {
      await post('/delegations', { doctor_id: Number(doctor), assistant_id: Number(assistant) });
      setError(null);
      load();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  const of = (r: Role) => users.filter((u) => u.role === r && !u.disabled_at);
  return (
    <section class="panel">
      <form class="form" onSubmit={grant} aria-label="Nouvelle délégation">
        <div class="row">
          <Field label="Médecin" name="doctor_id" error={error}>
            <select value={doctor} onChange={(e) => setDoctor((e.target as HTMLSelectElement).value)}>
              <option value="">—</option>
              {of('doctor').map((u) => (
                <option value={u.id} key={u.id}>
                  {u.display_name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Assistante" name="assistant_id" error={error}>
            <select value={assistant} onChange={(e) => setAssistant((e.target as HTMLSelectElement).value)}>
              <option value="">—</option>
              {of('assistant').map((u) => (
                <option value={u.id} key={u.id}>
                  {u.display_name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <FormMessage error={error} shown={['doctor_id', 'assistant_id']} />
        <p class="muted">Le médecin doit accepter la délégation depuis son écran : l'assistante n'a accès à ses patients qu'ensuite.</p>
        <button class="primary" type="submit">
          Proposer la délégation
        </button>
      </form>
      <ul class="delegations">
        {list.map((d) => (
          <li key={d.id}>
            {d.accepted_at ? (
              <>
                {d.assistant_name} agit pour {d.doctor_name} <span class="muted">depuis le {dateTime(d.accepted_at)}</span>
              </>
            ) : (
              <>
                {d.assistant_name} pour {d.doctor_name} <span class="chip warn">en attente de l'accord du médecin</span>
              </>
            )}{' '}
            <button class="ghost small" onClick={() => del(`/delegations/${d.id}`).then(load)}>
              Retirer
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Audit() {
  const [rows, setRows] = useState<AuditEntry[]>([]);
  const [action, setAction] = useState('');
  useEffect(() => {
    const q = action ? `&action=${encodeURIComponent(action)}` : '';
    get<AuditEntry[]>(`/audit?limit=200${q}`).then(setRows).catch(() => {});
  }, [action]);
  return (
    <section class="panel">
      <label class="field">
        <span>Action</span>
        <input value={action} onChange={(e) => setAction((e.target as HTMLInputElement).value)} placeholder="ex. visit.assign" />
      </label>
      <table class="list audit">
        <thead>
          <tr>
            <th>Quand</th>
            <th>Qui</th>
            <th>Pour le compte de</th>
            <th>Action</th>
            <th>Objet</th>
            <th>Changements</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{dateTime(r.at)}</td>
              <td>{r.actor_name ?? 'système'}</td>
              <td>{r.on_behalf_of_name ?? ''}</td>
              <td>{r.action}</td>
              <td>
                {r.entity_type} {r.entity_id}
              </td>
              <td>
                <code>{JSON.stringify(r.changes)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
