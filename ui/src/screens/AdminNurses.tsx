// Administration of partner nurses (#7). For an association that books: the partner nurse
// networks it sends requests to (address, API key, acts, area, priority). For a hub that is itself
// a nurse network: the networks it hosts, the associations allowed to send it requests (each with
// an API key shown once) and what each partner nurse does and where.

import { useEffect, useState } from 'preact/hooks';
import {
  addNurseNetwork,
  addPartnerClient,
  addPartnerNetwork,
  get,
  nurseActs,
  nurseCoverage,
  nurseNetworks,
  partnerClients,
  partnerNetworks,
  revokePartnerClient,
  setNurseCoverage,
  updatePartnerNetwork,
} from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { dateTime } from '../format';
import { areaText, areaToForm, formToArea, type AreaForm } from '../nurse';
import type { NewPartnerClient, NurseAct, NurseCoverage, NurseNetwork, PartnerClient, PartnerNetwork, PartnerNetworkInput } from '../types';

const AREA_FIELDS = ['area', 'area.postcodes', 'area.lat', 'area.lon', 'area.radius_km'];

function useActs() {
  const [acts, setActs] = useState<NurseAct[]>([]);
  useEffect(() => {
    nurseActs()
      .then(setActs)
      .catch(() => {});
  }, []);
  return acts;
}

const actLabels = (codes: string[], acts: NurseAct[]) => codes.map((c) => acts.find((a) => a.code === c)?.label ?? c).join(', ') || '—';

/** The acts as checkboxes. */
function ActsChecks(props: { acts: NurseAct[]; value: string[]; onChange: (v: string[]) => void; error: FormError | null; name?: string }) {
  const name = props.name ?? 'acts';
  const mine = props.error?.field === name;
  return (
    <fieldset class={`checks${mine ? ' has-error' : ''}`} data-field={name}>
      <legend>Soins</legend>
      {props.acts.map((a) => (
        <label key={a.code}>
          <input
            type="checkbox"
            checked={props.value.includes(a.code)}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              props.onChange(on ? [...props.value, a.code] : props.value.filter((c) => c !== a.code));
            }}
          />{' '}
          {a.label}
        </label>
      ))}
      {mine && (
        <small class="error" role="alert">
          {props.error!.message}
        </small>
      )}
    </fieldset>
  );
}

/** Where: anywhere, postcodes (comma-separated), or a centre and a radius. */
function AreaFields(props: { value: AreaForm; onChange: (f: AreaForm) => void; error: FormError | null; anywhere?: string }) {
  const f = props.value;
  const set = (k: keyof AreaForm) => (e: Event) => props.onChange({ ...f, [k]: (e.target as HTMLInputElement).value });
  const kinds: [AreaForm['kind'], string][] = [
    ['anywhere', props.anywhere ?? 'Partout'],
    ['postcodes', 'Codes postaux'],
    ['circle', 'Centre et rayon'],
  ];
  const areaError = props.error?.field === 'area' ? props.error : null;
  return (
    <fieldset class={`area${areaError ? ' has-error' : ''}`} data-field="area">
      <legend>Zone</legend>
      <div class="segmented" role="radiogroup" aria-label="Zone">
        {kinds.map(([k, label]) => (
          <label key={k} class={f.kind === k ? 'on' : ''}>
            <input type="radio" checked={f.kind === k} onChange={() => props.onChange({ ...f, kind: k })} />
            {label}
          </label>
        ))}
      </div>
      {f.kind === 'postcodes' && (
        <Field label="Codes postaux, séparés par des virgules" name="area.postcodes" error={props.error} wide>
          <input value={f.postcodes} onInput={set('postcodes')} placeholder="38000, 38100, 38400" inputMode="numeric" />
        </Field>
      )}
      {f.kind === 'circle' && (
        <div class="row">
          <Field label="Latitude du centre" name="area.lat" error={props.error}>
            <input value={f.lat} onInput={set('lat')} inputMode="decimal" />
          </Field>
          <Field label="Longitude du centre" name="area.lon" error={props.error}>
            <input value={f.lon} onInput={set('lon')} inputMode="decimal" />
          </Field>
          <Field label="Rayon (km)" name="area.radius_km" error={props.error}>
            <input value={f.radius_km} onInput={set('radius_km')} inputMode="decimal" />
          </Field>
        </div>
      )}
      {areaError && (
        <small class="error" role="alert">
          {areaError.message}
        </small>
      )}
    </fieldset>
  );
}

// --- The association's side: where its doctors' requests go -------------------------------------

interface NetworkForm {
  name: string;
  base_url: string;
  api_key: string;
  acts: string[];
  area: AreaForm;
  priority: string;
  active: boolean;
}

const blankNetwork = (): NetworkForm => ({ name: '', base_url: '', api_key: '', acts: [], area: areaToForm(null), priority: '100', active: true });

export function PartnerNetworks() {
  const acts = useActs();
  const [list, setList] = useState<PartnerNetwork[]>([]);
  const [editing, setEditing] = useState<PartnerNetwork | null>(null);
  const [f, setF] = useState<NetworkForm>(blankNetwork());
  const [error, setError] = useState<FormError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const load = () =>
    partnerNetworks()
      .then(setList)
      .catch((e) => setError(toFormError(e)));
  useEffect(() => {
    load();
  }, []);
  const set = (k: 'name' | 'base_url' | 'api_key' | 'priority') => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });

  function edit(n: PartnerNetwork | null) {
    setEditing(n);
    setError(null);
    setSaved(null);
    setF(
      n
        ? { name: n.name, base_url: n.base_url, api_key: '', acts: n.acts, area: areaToForm(n.area), priority: String(n.priority), active: n.active }
        : blankNetwork(),
    );
  }

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setSaved(null);
    const area = formToArea(f.area);
    if ('field' in area) return setError({ field: area.field, message: area.message });
    const priority = f.priority.trim() === '' ? undefined : Number(f.priority);
    if (priority !== undefined && !Number.isInteger(priority)) return setError({ field: 'priority', message: 'La priorité est un nombre entier.' });
    const body: PartnerNetworkInput = { name: f.name.trim(), base_url: f.base_url.trim(), acts: f.acts, area: area.area, priority };
    if (f.api_key.trim()) body.api_key = f.api_key.trim();
    try {
      if (editing) await updatePartnerNetwork(editing.id, { ...body, active: f.active });
      else await addPartnerNetwork(body);
      const done = editing ? `${body.name} : enregistré.` : `${body.name} : ajouté.`;
      edit(null);
      setSaved(done);
      load();
    } catch (err) {
      setError(toFormError(err));
    }
  }

  return (
    <section class="panel">
      <h2>Réseaux infirmiers partenaires</h2>
      <p class="muted">
        Les demandes d'infirmière des médecins sont proposées aux réseaux actifs qui font le soin à l'adresse du patient, par ordre de priorité ;
        si l'un refuse ou ne répond pas, le suivant est essayé.
      </p>
      <table class="list">
        <thead>
          <tr>
            <th>Réseau</th>
            <th>Soins</th>
            <th>Zone</th>
            <th title="La plus petite est essayée en premier">Priorité</th>
            <th>État</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((n) => (
            <tr key={n.id} class={n.active ? '' : 'disabled'} data-network={n.id}>
              <td>
                {n.name}
                <span class="skills">{n.base_url}</span>
                {!n.has_api_key && <span class="skills warn-text">pas de clé API</span>}
              </td>
              <td>{actLabels(n.acts, acts)}</td>
              <td>{areaText(n.area)}</td>
              <td class="num">{n.priority}</td>
              <td>{n.active ? 'Actif' : 'Inactif'}</td>
              <td>
                <button class="ghost small" onClick={() => edit(n)}>
                  Modifier
                </button>
              </td>
            </tr>
          ))}
          {list.length === 0 && (
            <tr>
              <td colSpan={6} class="empty">
                Aucun réseau enregistré.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <form class="form" onSubmit={submit} aria-label={editing ? `Modifier ${editing.name}` : 'Nouveau réseau infirmier partenaire'}>
        <h3>{editing ? `Modifier « ${editing.name} »` : 'Ajouter un réseau'}</h3>
        <div class="row">
          <Field label="Nom" name="name" error={error}>
            <input value={f.name} onInput={set('name')} />
          </Field>
          <Field label="Adresse du réseau (URL)" name="base_url" error={error} wide>
            <input type="url" value={f.base_url} onInput={set('base_url')} placeholder="https://reseau-infirmier.example/api/partner/v1" />
          </Field>
        </div>
        <div class="row">
          <Field label={editing ? 'Clé API (laisser vide pour garder)' : 'Clé API'} name="api_key" error={error} wide>
            <input
              type="password"
              value={f.api_key}
              onInput={set('api_key')}
              autocomplete="new-password"
              placeholder={editing ? 'laisser vide pour garder' : ''}
            />
          </Field>
          <Field label="Priorité (la plus petite d'abord)" name="priority" error={error}>
            <input value={f.priority} onInput={set('priority')} inputMode="numeric" />
          </Field>
          {editing && (
            <label class="field check">
              <span>État</span>
              <span>
                <input type="checkbox" checked={f.active} onChange={(e) => setF({ ...f, active: (e.target as HTMLInputElement).checked })} /> Actif
              </span>
            </label>
          )}
        </div>
        <ActsChecks acts={acts} value={f.acts} onChange={(v) => setF({ ...f, acts: v })} error={error} />
        <AreaFields value={f.area} onChange={(a) => setF({ ...f, area: a })} error={error} />
        <FormMessage error={error} shown={['name', 'base_url', 'api_key', 'priority', 'acts', ...AREA_FIELDS]} />
        {saved && <p class="notice">{saved}</p>}
        <div class="row">
          <button class="primary" type="submit">
            {editing ? 'Enregistrer' : 'Ajouter le réseau'}
          </button>
          {editing && (
            <button class="ghost" type="button" onClick={() => edit(null)}>
              Annuler
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

// --- A hub that is a nurse network: its networks, its client associations, its nurses -----------

interface UserRow {
  id: number;
  display_name: string;
  username: string;
  role: string;
  network_id: number | null;
  disabled_at: string | null;
}

export function NurseNetworkAdmin() {
  const acts = useActs();
  const [networks, setNetworks] = useState<NurseNetwork[]>([]);
  const [clients, setClients] = useState<PartnerClient[]>([]);
  const [nurses, setNurses] = useState<UserRow[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const load = () => {
    nurseNetworks()
      .then(setNetworks)
      .catch((e) => setLoadError(toFormError(e).message));
    partnerClients()
      .then(setClients)
      .catch(() => {});
    get<UserRow[]>('/users')
      .then((us) => setNurses(us.filter((u) => u.role === 'partner_nurse')))
      .catch(() => {});
  };
  useEffect(load, []);
  const networkName = (id: number | null) => networks.find((n) => n.id === id)?.name ?? '—';

  return (
    <>
      {loadError && <p class="error">{loadError}</p>}
      <HostedNetworks networks={networks} onAdded={load} />
      <PartnerClients clients={clients} networks={networks} networkName={networkName} onChange={load} />
      <section class="panel">
        <h2>Couverture des infirmières</h2>
        <p class="muted">
          Les demandes des associations clientes sont proposées aux infirmières disponibles du réseau qui font le soin dans la zone du patient.
          Les comptes des infirmières se créent dans « Comptes » (rôle Infirmière partenaire).
        </p>
        {nurses.length === 0 && <p class="empty">Aucune infirmière partenaire.</p>}
        <ul class="coverage-list">
          {nurses.map((u) => (
            <NurseCoverageRow key={u.id} nurse={u} acts={acts} network={networkName(u.network_id)} />
          ))}
        </ul>
      </section>
    </>
  );
}

function HostedNetworks(props: { networks: NurseNetwork[]; onAdded: () => void }) {
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await addNurseNetwork({ name: name.trim(), phone: phone.trim() || null });
      setName('');
      setPhone('');
      props.onAdded();
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <section class="panel">
      <h2>Réseaux infirmiers hébergés</h2>
      <p class="muted">Si ce serveur est celui d'un réseau d'infirmières, ses réseaux reçoivent les demandes des associations clientes.</p>
      <ul class="delegations">
        {props.networks.map((n) => (
          <li key={n.id}>
            <strong>{n.name}</strong> {n.phone && <span class="muted">· {n.phone}</span>}
          </li>
        ))}
      </ul>
      <form class="form" onSubmit={submit} aria-label="Nouveau réseau hébergé">
        <div class="row">
          <Field label="Nom du réseau" name="name" error={error}>
            <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label="Téléphone" name="phone" error={error}>
            <input type="tel" value={phone} onInput={(e) => setPhone((e.target as HTMLInputElement).value)} />
          </Field>
        </div>
        <FormMessage error={error} shown={['name', 'phone']} />
        <button class="primary" type="submit">
          Créer le réseau
        </button>
      </form>
    </section>
  );
}

function PartnerClients(props: { clients: PartnerClient[]; networks: NurseNetwork[]; networkName: (id: number) => string; onChange: () => void }) {
  const [name, setName] = useState('');
  const [network, setNetwork] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  const [created, setCreated] = useState<NewPartnerClient | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<number | null>(null);
  const networkId = network ? Number(network) : props.networks[0]?.id;

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setCopied(false);
    if (networkId == null) return setError({ field: 'network_id', message: "Créez d'abord un réseau hébergé." });
    try {
      setCreated(await addPartnerClient({ name: name.trim(), network_id: networkId }));
      setName('');
      props.onChange();
    } catch (err) {
      setError(toFormError(err));
    }
  }

  async function copy(key: string) {
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      // No clipboard (plain http): the key is selected for a manual copy.
      const input = document.getElementById('new-client-key') as HTMLInputElement | null;
      input?.select();
    }
  }

  async function revoke(c: PartnerClient) {
    if (revoking !== c.id) return setRevoking(c.id);
    try {
      await revokePartnerClient(c.id);
      props.onChange();
    } catch (err) {
      setError(toFormError(err));
    } finally {
      setRevoking(null);
    }
  }

  return (
    <section class="panel">
      <h2>Associations clientes</h2>
      <p class="muted">Les associations autorisées à envoyer des demandes d'infirmière à ce réseau, chacune avec sa clé API.</p>
      {created && (
        <div class="key-once" role="status" data-testid="client-key">
          <p>
            Clé API de <strong>{created.name}</strong> : elle ne sera plus affichée, transmettez-la maintenant.
          </p>
          <div class="row">
            <input id="new-client-key" readOnly value={created.api_key} onFocus={(e) => (e.target as HTMLInputElement).select()} aria-label="Clé API" />
            <button type="button" class="primary" onClick={() => copy(created.api_key)}>
              {copied ? 'Copiée ✓' : 'Copier'}
            </button>
            <button type="button" class="ghost" onClick={() => setCreated(null)}>
              J'ai noté la clé
            </button>
          </div>
        </div>
      )}
      <table class="list">
        <thead>
          <tr>
            <th>Association</th>
            <th>Réseau</th>
            <th>Créée le</th>
            <th>État</th>
          </tr>
        </thead>
        <tbody>
          {props.clients.map((c) => (
            <tr key={c.id} class={c.revoked_at ? 'disabled' : ''}>
              <td>{c.name}</td>
              <td>{props.networkName(c.network_id)}</td>
              <td>{dateTime(c.created_at)}</td>
              <td>
                {c.revoked_at ? (
                  `Révoquée le ${dateTime(c.revoked_at)}`
                ) : (
                  <button class={revoking === c.id ? 'danger small' : 'ghost small'} onClick={() => revoke(c)} onBlur={() => setRevoking(null)}>
                    {revoking === c.id ? 'Confirmer la révocation' : 'Révoquer'}
                  </button>
                )}
              </td>
            </tr>
          ))}
          {props.clients.length === 0 && (
            <tr>
              <td colSpan={4} class="empty">
                Aucune association cliente.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <form class="form" onSubmit={submit} aria-label="Nouvelle association cliente">
        <div class="row">
          <Field label="Association" name="name" error={error}>
            <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="SOS Médecins …" />
          </Field>
          <Field label="Réseau" name="network_id" error={error}>
            <select value={network || String(networkId ?? '')} onChange={(e) => setNetwork((e.target as HTMLSelectElement).value)}>
              {props.networks.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <FormMessage error={error} shown={['name', 'network_id']} />
        <button class="primary" type="submit">
          Créer et afficher la clé
        </button>
      </form>
    </section>
  );
}

function NurseCoverageRow(props: { nurse: UserRow; acts: NurseAct[]; network: string }) {
  const [coverage, setCoverage] = useState<NurseCoverage | null>(null);
  const [open, setOpen] = useState(false);
  const [f, setF] = useState<{ acts: string[]; area: AreaForm; on_duty: boolean } | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    nurseCoverage(props.nurse.id)
      .then(setCoverage)
      .catch((e) => setError(toFormError(e)));
  }, [props.nurse.id]);

  function start() {
    if (!coverage) return;
    setF({ acts: coverage.acts, area: areaToForm(coverage.area), on_duty: coverage.on_duty });
    setOpen(true);
    setSaved(false);
    setError(null);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!f) return;
    setError(null);
    const area = formToArea(f.area);
    if ('field' in area) return setError({ field: area.field, message: area.message });
    try {
      setCoverage(await setNurseCoverage(props.nurse.id, { acts: f.acts, area: area.area, on_duty: f.on_duty }));
      setOpen(false);
      setSaved(true);
    } catch (err) {
      setError(toFormError(err));
    }
  }

  return (
    <li class={props.nurse.disabled_at ? 'disabled' : ''} data-nurse={props.nurse.id}>
      <div class="line1">
        <strong>{props.nurse.display_name}</strong>
        <span class="muted">{props.network}</span>
        {coverage && <span class={`chip ${coverage.on_duty ? 'available' : 'off_duty'}`}>{coverage.on_duty ? 'Disponible' : 'Indisponible'}</span>}
        <span class="spacer" />
        {!open && (
          <button class="ghost small" onClick={start} disabled={!coverage}>
            Modifier
          </button>
        )}
      </div>
      {coverage && !open && (
        <p class="muted small">
          {actLabels(coverage.acts, props.acts)} · Zone : {areaText(coverage.area)}
          {saved ? ' · enregistré' : ''}
        </p>
      )}
      {open && f && (
        <form class="form" onSubmit={submit} aria-label={`Couverture de ${props.nurse.display_name}`}>
          <ActsChecks acts={props.acts} value={f.acts} onChange={(v) => setF({ ...f, acts: v })} error={error} />
          <AreaFields value={f.area} onChange={(a) => setF({ ...f, area: a })} error={error} anywhere="Toute la zone du réseau" />
          <label>
            <input type="checkbox" checked={f.on_duty} onChange={(e) => setF({ ...f, on_duty: (e.target as HTMLInputElement).checked })} /> Disponible
          </label>
          <FormMessage error={error} shown={['acts', ...AREA_FIELDS]} />
          <div class="row">
            <button class="primary" type="submit">
              Enregistrer
            </button>
            <button class="ghost" type="button" onClick={() => setOpen(false)}>
              Annuler
            </button>
          </div>
        </form>
      )}
      {!open && error && <p class="error">{error.message}</p>}
    </li>
  );
}
