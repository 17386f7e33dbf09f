// The dispatcher's board: call intake, the queue of open calls with live timers and one-click
// assignment, the doctors on shift, and the map. Everything follows the event stream, partner
// nurse bookings included (a compact badge on the visit; the ones of visits no longer queued
// below the queue).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, post, put } from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { MapView } from '../components/MapView';
import { NurseBookingBadge } from '../components/NurseBookingStatus';
import { PatientFields } from '../components/PatientFields';
import { CancelVisit, EditVisit, Reassign } from '../components/VisitActions';
import { age, clock, DOCTOR_STATUS, OPEN, OUTCOMES, patientName, positionWords, seenWords, since, SKILLS, suggestionReason, VISIT_STATUS } from '../format';
import { candidates, km } from '../geo';
import { dispatchModeOf, useHubEvent, useLiveBoard, useLiveBookings, useTick } from '../live';
import { bookingForVisit, isActiveBooking } from '../nurse';
import type { AddressHit, Call, Doctor, NurseBooking, Patient, Sector, Visit } from '../types';

export function Dispatcher() {
  const { visits, doctors, link, reload } = useLiveBoard('/visits?open=true&limit=1000');
  const { bookings } = useLiveBookings('/nurse-bookings?active=true');
  const [sectors, setSectors] = useState<Sector[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [focus, setFocus] = useState<number | null>(null);
  // The intake's position: filled by the address search, or dropped on the map.
  const [pin, setPin] = useState<{ lat: number; lon: number } | null>(null);
  const [picking, setPicking] = useState(false);
  useEffect(() => {
    get<Sector[]>('/sectors').then(setSectors).catch(() => {});
  }, []);

  const open = useMemo(
    () =>
      visits
        .filter((v) => OPEN.includes(v.status))
        .sort((a, b) => a.urgency - b.urgency || a.received_at.localeCompare(b.received_at)),
    [visits],
  );
  // Queues from the live visits, so that they follow every assignment at once.
  const board = useMemo(
    () => doctors.map((d) => ({ ...d, queue: open.filter((v) => v.doctor?.id === d.id).length })),
    [doctors, open],
  );

  async function act(path: string, body: object, done: string) {
    try {
      await post(path, body);
      setNotice(done);
    } catch (e) {
      setNotice(toFormError(e).message);
      reload().catch(() => {});
    }
  }

  return (
    <div class="board">
      <LinkBanner link={link} />
      <section class="panel intake">
        <h2>Nouvel appel</h2>
        <Intake
          onTaken={(v) => { setNotice(`Appel enregistré : ${patientName(v.patient)}`); setFocus(v.id); setPin(null); }}
          onKept={(c) => { setNotice(`Appel enregistré sans visite : ${OUTCOMES[c.outcome].toLowerCase()}`); setPin(null); }}
          pin={pin}
          onPin={setPin}
          picking={picking}
          onPicking={setPicking}
        />
      </section>
      <section class="panel queue" aria-label="File des appels">
        <h2>
          File d'attente <span class="count">{open.length}</span>
          <span class="spacer" />
          <AutoDispatch onNotice={setNotice} />
        </h2>
        {notice && <p class="notice" role="status">{notice}</p>}
        <Queue visits={open} doctors={board} bookings={bookings} focus={focus} act={act} onNotice={setNotice} />
        <NursesElsewhere bookings={bookings} open={open} doctors={doctors} />
      </section>
      <section class="panel doctors" aria-label="Médecins">
        <h2>Médecins de garde</h2>
        <DoctorList doctors={board} />
      </section>
      <section class="panel mapbox">
        <MapView
          sectors={sectors}
          doctors={board}
          visits={open}
          onPick={setFocus}
          pin={pin}
          picking={picking}
          onPlace={(p) => { setPin(p); setPicking(false); }}
        />
      </section>
    </div>
  );
}

const MODES: [string, string, string][] = [
  ['off', 'Manuel', 'Le standard attribue chaque visite'],
  ['propose', 'Proposer', 'Le moteur propose un médecin pour chaque visite en attente ; un clic pour accepter'],
  ['apply', 'Automatique', "Le moteur attribue lui-même ; une visite que vous attribuez ou reprenez n'est plus touchée"],
];

/** Auto-dispatch for the association: off, propose or apply. */
function AutoDispatch(props: { onNotice: (s: string) => void }) {
  const [mode, setMode] = useState<string | null>(null);
  const load = () => get<{ mode: string }>('/dispatch/settings').then((s) => setMode(s.mode)).catch(() => {});
  useEffect(() => {
    load();
  }, []);
  // Another dispatcher's switch reaches every board.
  useHubEvent((e) => {
    const m = dispatchModeOf(e);
    if (m) setMode(m);
    else if (e.kind === 'link.reopened') load();
  });
  if (mode == null) return null;
  async function choose(m: string) {
    try {
      const s = await put<{ mode: string }>('/dispatch/settings', { mode: m });
      setMode(s.mode);
      props.onNotice(`Répartition : ${MODES.find((x) => x[0] === s.mode)?.[1].toLowerCase()}`);
    } catch (e) {
      props.onNotice(toFormError(e).message);
    }
  }
  return (
    <span class="segmented small" role="radiogroup" aria-label="Répartition automatique">
      {MODES.map(([m, label, title]) => (
        <label key={m} class={mode === m ? 'on' : ''} title={title}>
          <input type="radio" name="autodispatch" value={m} checked={mode === m} onChange={() => choose(m)} />
          {label}
        </label>
      ))}
    </span>
  );
}

/** Nurse bookings under way whose visit has left the queue (closed): one compact line each. */
function NursesElsewhere(props: { bookings: NurseBooking[]; open: Visit[]; doctors: Doctor[] }) {
  const rest = props.bookings.filter((b) => isActiveBooking(b) && !props.open.some((v) => v.id === b.visit_id));
  if (rest.length === 0) return null;
  return (
    <details class="nurse-elsewhere" data-testid="nurse-elsewhere">
      <summary>
        Soins infirmiers en cours hors file <span class="count">{rest.length}</span>
      </summary>
      <ul>
        {rest.map((b) => (
          <li key={b.id} data-visit={b.visit_id}>
            <NurseBookingBadge booking={b} /> <span>{b.act_label}</span>
            <span class="muted"> · {props.doctors.find((d) => d.id === b.doctor_id)?.name ?? b.on_behalf_of?.name ?? b.requested_by.name}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Whether the doctor saw the visit given to him (his phone rang): « vu à 02:14 », or not. */
function SeenChip(props: { visit: Visit; now: number }) {
  const w = seenWords(props.visit, props.now);
  if (!w) return null;
  return (
    <span class={w.late ? 'seen late' : 'seen'} data-testid="seen" title={w.late ? "Le médecin n'a pas confirmé avoir vu cette visite : appelez-le" : undefined}>
      {w.text}
    </span>
  );
}

function Queue(props: {
  visits: Visit[];
  doctors: Doctor[];
  bookings: NurseBooking[];
  focus: number | null;
  act: (p: string, b: object, done: string) => void;
  onNotice: (s: string) => void;
}) {
  const now = useTick(1000);
  // The one visit being edited or cancelled in place (its card opens a form under it).
  const [editing, setEditing] = useState<{ id: number; what: 'edit' | 'cancel' } | null>(null);
  const done = (msg: string | null) => {
    setEditing(null);
    if (msg) props.onNotice(msg);
  };
  if (props.visits.length === 0) return <p class="empty">Aucun appel en attente.</p>;
  return (
    <ul class="visits">
      {props.visits.map((v) => {
        const nurse = bookingForVisit(props.bookings, v.id);
        return (
          <li key={v.id} class={`visit p${v.urgency} ${v.status}${props.focus === v.id ? ' focus' : ''}`} data-visit={v.id} data-status={v.status}>
            <div class="line1">
              <span class={`urgency p${v.urgency}`} title="Urgence">P{v.urgency}</span>
              <strong>{patientName(v.patient)}</strong>
              {age(v.patient.birth_date) != null && <span class="muted">{age(v.patient.birth_date)} ans</span>}
              <span class="wait" title={`Reçu à ${clock(v.received_at)}`}>{since(v.received_at, now)}</span>
            </div>
            <div class="line2">
              <span class="motive">{v.motive}</span>
              <span class="muted">
                {' · '}
                {v.address.city}
                {v.institution_id ? ' · EHPAD' : ''}
              </span>
            </div>
            <div class="line3">
              <span class={`chip ${v.status}`}>{VISIT_STATUS[v.status]}</span>
              {v.doctor && <span class="doctor-name">{v.doctor.name}</span>}
              <SeenChip visit={v} now={now} />
              {nurse && <NurseBookingBadge booking={nurse} />}
              {v.status === 'received' ? (
                <Assign visit={v} doctors={props.doctors} act={props.act} />
              ) : (
                (v.status === 'assigned' || v.status === 'en_route') && (
                  <>
                    <Reassign visit={v} doctors={props.doctors} act={props.act} />
                    <button class="ghost small" onClick={() => props.act(`/visits/${v.id}/unassign`, {}, 'Visite remise en attente')}>
                      Désattribuer
                    </button>
                  </>
                )
              )}
              <span class="spacer" />
              <button class="ghost small" title="Urgence, motif, adresse, notes" onClick={() => setEditing(editing?.id === v.id && editing.what === 'edit' ? null : { id: v.id, what: 'edit' })}>
                Modifier
              </button>
              <button
                class="ghost small"
                title="Transférer au 15 (SAMU)"
                onClick={() => confirm('Transférer ce cas au 15 ?') && props.act(`/visits/${v.id}/redirect-15`, { reason: 'transfert au 15' }, 'Transféré au 15')}
              >
                → 15
              </button>
              <button class="ghost small" onClick={() => setEditing({ id: v.id, what: 'cancel' })}>
                Annuler
              </button>
            </div>
            {editing?.id === v.id && editing.what === 'edit' && <EditVisit visit={v} onDone={done} />}
            {editing?.id === v.id && editing.what === 'cancel' && <CancelVisit visit={v} onDone={done} />}
          </li>
        );
      })}
    </ul>
  );
}

interface ServerSuggestions {
  travel: 'road' | 'crow_flight';
  suggestions: { doctor_id: number; name: string; eta_min: number; visits_before: number; skills: string[] }[];
  excluded: { doctor_id: number; name: string; reason: string; eta_min: number | null }[];
  required_skills: string[];
}

const LEFT_OUT: Record<string, string> = {
  off_duty: 'hors service',
  no_shift: 'pas de garde en cours',
  no_position: 'position inconnue',
  lacks_skill: 'compétence manquante',
  shift_ends: 'fin de garde',
  cannot_make_deadline: 'arriverait trop tard',
};

/** One click on a suggested doctor assigns; "Autre…" lists everyone, with why some are left out. */
function Assign(props: { visit: Visit; doctors: Doctor[]; act: (p: string, b: object, done: string) => void }) {
  const [server, setServer] = useState<ServerSuggestions | null>(null);
  useEffect(() => {
    // The engine's projection, refreshed as the board changes (at most once a second).
    const t = setTimeout(() => {
      get<ServerSuggestions>(`/visits/${props.visit.id}/suggestions`).then(setServer).catch(() => setServer(null));
    }, 300 + Math.random() * 700);
    return () => clearTimeout(t);
  }, [props.visit.id, props.doctors]);
  const ranked = candidates(props.visit, props.doctors);
  const path = `/visits/${props.visit.id}/assign`;
  const assign = (id: number, name: string) => props.act(path, { doctor_id: id }, `Attribuée à ${name}`);
  const top = server
    ? server.suggestions.slice(0, 3).map((s) => ({ id: s.doctor_id, name: s.name, label: suggestionReason(s, server.required_skills) }))
    : ranked.slice(0, 3).map((c) => ({ id: c.doctor.id, name: c.doctor.name, label: c.eta != null ? `~${c.eta} min` : km(c.km) }));
  const why = new Map(server?.excluded.map((e) => [e.doctor_id, LEFT_OUT[e.reason] ?? e.reason]) ?? []);
  const proposal = props.visit.proposal;
  const basis = server?.travel === 'road' ? 'temps par la route' : 'temps estimé à vol d’oiseau';
  return (
    <span class="assign">
      {proposal && (
        <button
          class="suggest proposal"
          data-doctor={proposal.doctor_id}
          title="Proposition de la répartition automatique : un clic pour accepter"
          onClick={() => assign(proposal.doctor_id, proposal.name)}
        >
          ✓ {proposal.name.replace(/^Dr /, '')} · {Math.round(proposal.eta_min)} min
        </button>
      )}
      {top.filter((c) => c.id !== proposal?.doctor_id).map((c) => (
        <button key={c.id} class="suggest" data-doctor={c.id} title={`${c.label} (${basis})`} onClick={() => assign(c.id, c.name)}>
          {c.name.replace(/^Dr /, '')} · {c.label}
        </button>
      ))}
      {server && server.suggestions.length === 0 && <span class="muted">Personne à temps : voir « Autre… »</span>}
      <select
        aria-label="Attribuer à un autre médecin"
        onChange={(e) => {
          const id = Number((e.target as HTMLSelectElement).value);
          const d = props.doctors.find((x) => x.id === id);
          if (d) assign(id, d.name);
        }}
      >
        <option value="">Autre…</option>
        {ranked.map((c) => (
          <option value={c.doctor.id} key={c.doctor.id}>
            {c.doctor.name} ({km(c.km)}, {c.doctor.queue} en cours){why.has(c.doctor.id) ? ` — ${why.get(c.doctor.id)}` : ''}
          </option>
        ))}
      </select>
    </span>
  );
}

function DoctorList(props: { doctors: Doctor[] }) {
  const now = useTick(15000);
  const sorted = [...props.doctors].sort((a, b) => Number(a.status === 'off_duty') - Number(b.status === 'off_duty') || a.name.localeCompare(b.name));
  return (
    <table class="doctors-table">
      <thead>
        <tr>
          <th>Médecin</th>
          <th>Statut</th>
          <th title="Visites en cours">File</th>
          <th title="Âge de la dernière position">Position</th>
          <th>Fin de garde</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((d) => (
          <tr key={d.id} data-doctor={d.id} class={d.status}>
            <td>
              {d.name}
              <span class="skills">{d.skills.map((s) => SKILLS[s] ?? s).join(' · ')}</span>
            </td>
            <td>
              <span class={`chip ${d.status}`}>{DOCTOR_STATUS[d.status]}</span>
            </td>
            <td class="num">{d.queue}</td>
            <td class={positionWords(d, now).stale ? 'position stale' : 'position muted'} data-testid="doctor-position">
              {positionWords(d, now).text}
            </td>
            <td class="muted">{clock(d.shift_ends_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Advice {
  covered: boolean | null;
  sector: { id: number; name: string } | null;
  fallbacks: { code: string; label: string }[];
  motive: { code: string; label: string; urgency: number; skills: string[] } | null;
  red_flags: { code: string; label: string; advice: string }[];
}

const EMPTY = {
  source: 'patient',
  caller_name: '',
  caller_phone: '',
  birth_name: '',
  first_names: '',
  birth_date: '',
  sex: 'U',
  line: '',
  postcode: '',
  city: '',
  details: '',
  lat: '',
  lon: '',
  motive: '',
  urgency: '2',
  notes: '',
};

/** Call intake. Ctrl+Entrée saves. A known patient is found by name as you type. */
function Intake(props: {
  onTaken: (v: Visit) => void;
  onKept: (c: Call) => void;
  pin: { lat: number; lon: number } | null;
  onPin: (p: { lat: number; lon: number } | null) => void;
  picking: boolean;
  onPicking: (on: boolean) => void;
}) {
  const [f, setF] = useState({ ...EMPTY });
  const [patient, setPatient] = useState<Patient | null>(null);
  const [matches, setMatches] = useState<Patient[]>([]);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const [advice, setAdvice] = useState<Advice | null>(null);
  const set = (k: keyof typeof EMPTY) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });

  useEffect(() => {
    if (patient || f.birth_name.trim().length < 3) return setMatches([]);
    const t = setTimeout(() => {
      get<Patient[]>(`/patients?limit=5&q=${encodeURIComponent(f.birth_name.trim())}`).then(setMatches).catch(() => setMatches([]));
    }, 250);
    return () => clearTimeout(t);
  }, [f.birth_name, patient]);

  // Sector coverage, motive and red flags, checked as the call is typed.
  useEffect(() => {
    const num = (v: string) => (v.trim() === '' ? null : Number(v.replace(',', '.')));
    const lat = num(f.lat);
    const lon = num(f.lon);
    if (!f.motive.trim() && (lat == null || lon == null)) return setAdvice(null);
    const t = setTimeout(() => {
      post<Advice>('/intake/check', { lat, lon, motive: f.motive || null, notes: f.notes || null })
        .then(setAdvice)
        .catch(() => setAdvice(null));
    }, 300);
    return () => clearTimeout(t);
  }, [f.lat, f.lon, f.motive, f.notes]);

  // Address search as the line is typed (local BAN index, or the configured geocoder).
  const [hits, setHits] = useState<AddressHit[]>([]);
  const [picked, setPicked] = useState<string | null>(null);
  useEffect(() => {
    const q = `${f.line} ${f.city}`.trim();
    if (q.length < 4 || q === picked) return setHits([]);
    const t = setTimeout(() => {
      get<{ hits: AddressHit[] }>(`/addresses?limit=6&q=${encodeURIComponent(q)}`)
        .then((r) => setHits(r.hits))
        .catch(() => setHits([]));
    }, 150);
    return () => clearTimeout(t);
  }, [f.line, f.city]);

  function chooseAddress(h: AddressHit) {
    const line = h.housenumber ? `${h.housenumber} ${h.street}` : h.street;
    setF({ ...f, line, postcode: h.postcode, city: h.city, lat: h.lat.toFixed(5), lon: h.lon.toFixed(5) });
    setPicked(`${line} ${h.city}`.trim());
    setHits([]);
    props.onPin({ lat: h.lat, lon: h.lon });
  }

  // A pin dropped on the map fills the position.
  useEffect(() => {
    if (props.pin && (String(props.pin.lat) !== f.lat || String(props.pin.lon) !== f.lon)) {
      setF({ ...f, lat: props.pin.lat.toFixed(5), lon: props.pin.lon.toFixed(5) });
    }
  }, [props.pin]);

  function choose(p: Patient) {
    setPatient(p);
    setMatches([]);
    if (p.address) {
      setF({ ...f, line: p.address.line, postcode: p.address.postcode ?? '', city: p.address.city, lat: String(p.address.lat ?? ''), lon: String(p.address.lon ?? '') });
    }
  }

  async function submit(e: Event, to15 = false) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const num = (s: string) => (s.trim() === '' ? null : Number(s.replace(',', '.')));
    const body: Record<string, unknown> = {
      source: f.source,
      caller_name: f.caller_name || null,
      caller_phone: f.caller_phone || null,
      motive: f.motive,
      urgency: Number(f.urgency),
      notes: f.notes || null,
      address: f.line || f.city
        ? { line: f.line, postcode: f.postcode || null, city: f.city, details: f.details || null, lat: num(f.lat), lon: num(f.lon) }
        : undefined,
    };
    if (patient) body.patient_id = patient.id;
    else
      body.patient = {
        birth_name: f.birth_name,
        first_names: f.first_names,
        birth_date: f.birth_date || null,
        sex: f.sex,
      };
    try {
      const v = await post<Visit>('/calls', body);
      if (to15) await post(`/visits/${v.id}/redirect-15`, { reason: advice?.red_flags.map((r) => r.code).join(', ') || 'signes de gravité' });
      props.onTaken(v);
      setAdvice(null);
      setF({ ...EMPTY });
      setPatient(null);
    } catch (err) {
      setError(toFormError(err));
    } finally {
      setBusy(false);
    }
  }

  /** Keeps a call that ends without a home visit, with whatever was typed of it. */
  async function keep(outcome: string) {
    setBusy(true);
    setError(null);
    const num = (s: string) => (s.trim() === '' ? null : Number(s.replace(',', '.')));
    const body: Record<string, unknown> = {
      outcome,
      source: f.source,
      caller_name: f.caller_name || null,
      caller_phone: f.caller_phone || null,
      motive: f.motive || null,
      urgency: f.motive ? Number(f.urgency) : null,
      notes: f.notes || null,
    };
    if (f.line && f.city) body.address = { line: f.line, postcode: f.postcode || null, city: f.city, details: f.details || null, lat: num(f.lat), lon: num(f.lon) };
    if (patient) body.patient_id = patient.id;
    else if (f.birth_name.trim() && f.first_names.trim())
      body.patient = { birth_name: f.birth_name, first_names: f.first_names, birth_date: f.birth_date || null, sex: f.sex };
    try {
      const c = await post<Call>('/calls/handled', body);
      props.onKept(c);
      setAdvice(null);
      setF({ ...EMPTY });
      setPatient(null);
    } catch (err) {
      setError(toFormError(err));
    } finally {
      setBusy(false);
    }
  }

  const shown = ['caller_name', 'patient.birth_name', 'patient.first_names', 'patient.birth_date', 'patient_id', 'address.line', 'address.postcode', 'address.city', 'address.lat', 'address.lon', 'motive', 'urgency', 'notes'];
  return (
    <form class="form" onSubmit={submit} onKeyDown={(e) => e.key === 'Enter' && e.ctrlKey && submit(e)} aria-label="Nouvel appel">
      <div class="row">
        <Field label="Appelant" name="source" error={error}>
          <select value={f.source} onChange={set('source')}>
            <option value="patient">Patient</option>
            <option value="relative">Proche</option>
            <option value="samu_15">15 (SAMU)</option>
            <option value="institution">Établissement</option>
            <option value="other">Autre</option>
          </select>
        </Field>
        <Field label="Nom de l'appelant" name="caller_name" error={error}>
          <input value={f.caller_name} onInput={set('caller_name')} />
        </Field>
        <Field label="Téléphone" name="caller_phone" error={error}>
          <input type="tel" value={f.caller_phone} onInput={set('caller_phone')} />
        </Field>
      </div>
      {patient ? (
        <p class="chosen">
          Patient : <strong>{patientName(patient)}</strong> {patient.birth_date && `· né(e) le ${patient.birth_date.split('-').reverse().join('/')}`}{' '}
          <button type="button" class="ghost small" onClick={() => setPatient(null)}>
            Changer
          </button>
        </p>
      ) : (
        <PatientFields value={f} onChange={(k, v) => setF({ ...f, [k]: v })} error={error} prefix="patient." autoFocus />
      )}
      {matches.length > 0 && (
        <ul class="matches" aria-label="Patients connus">
          {matches.map((p) => (
            <li key={p.id}>
              <button type="button" class="ghost" onClick={() => choose(p)}>
                {patientName(p)} {p.birth_date ?? ''} — {p.address?.city ?? ''}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <Field label="Adresse (numéro, rue)" name="address.line" error={error} wide>
          <input value={f.line} onInput={set('line')} />
        </Field>
        <Field label="Code postal" name="address.postcode" error={error}>
          <input value={f.postcode} onInput={set('postcode')} inputMode="numeric" maxLength={5} />
        </Field>
        <Field label="Commune" name="address.city" error={error}>
          <input value={f.city} onInput={set('city')} />
        </Field>
      </div>
      {hits.length > 0 && (
        <ul class="matches" aria-label="Adresses trouvées">
          {hits.map((h) => (
            <li key={`${h.label}-${h.lat}`}>
              <button type="button" class="ghost" onClick={() => chooseAddress(h)}>
                {h.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <Field label="Étage, code, accès" name="address.details" error={error} wide>
          <input value={f.details} onInput={set('details')} />
        </Field>
        <Field label="Latitude" name="address.lat" error={error}>
          <input value={f.lat} onInput={set('lat')} inputMode="decimal" />
        </Field>
        <Field label="Longitude" name="address.lon" error={error}>
          <input value={f.lon} onInput={set('lon')} inputMode="decimal" />
        </Field>
        <button
          type="button"
          class={`ghost small pick${props.picking ? ' on' : ''}`}
          title="Cliquer ensuite sur la carte à l'endroit du patient"
          onClick={() => props.onPicking(!props.picking)}
        >
          {props.picking ? 'Cliquez sur la carte…' : 'Placer sur la carte'}
        </button>
      </div>
      <div class="row">
        <Field label="Motif" name="motive" error={error} wide>
          <input value={f.motive} onInput={set('motive')} placeholder="ex. fièvre 39,5 depuis 2 jours" />
        </Field>
        <Field label="Urgence" name="urgency" error={error}>
          <div class="segmented" role="radiogroup">
            {['1', '2', '3'].map((u) => (
              <label key={u} class={f.urgency === u ? `on p${u}` : ''}>
                <input type="radio" name="urgency" value={u} checked={f.urgency === u} onChange={set('urgency')} />P{u}
              </label>
            ))}
          </div>
        </Field>
      </div>
      <Field label="Notes" name="notes" error={error} wide>
        <textarea value={f.notes} onInput={set('notes')} rows={2} />
      </Field>
      {advice?.covered === false && (
        <div class="alert" role="alert" data-testid="out-of-sector">
          <strong>Adresse hors secteur : pas de visite à domicile.</strong> L'appel est gardé avec la solution choisie :
          <div class="fallbacks">
            {advice.fallbacks.map((x) => (
              <button key={x.code} type="button" class={x.code === 'samu_15' ? 'danger small' : 'small'} data-outcome={x.code} disabled={busy} onClick={() => keep(x.code)}>
                {x.label}
              </button>
            ))}
          </div>
        </div>
      )}
      {advice && advice.red_flags.length > 0 && (
        <div class="alert" role="alert" data-testid="red-flags">
          {advice.red_flags.map((r) => (
            <p key={r.code}>
              <strong>{r.label}.</strong> {r.advice}
            </p>
          ))}
          <button type="button" class="danger" disabled={busy} onClick={(e) => submit(e, true)}>
            Enregistrer et transférer au 15
          </button>
        </div>
      )}
      {advice?.covered && advice.sector && <p class="muted">Secteur : {advice.sector.name}</p>}
      {advice?.motive && advice.motive.urgency < Number(f.urgency) && (
        <p class="muted">
          Motif « {advice.motive.label} » : urgence P{advice.motive.urgency} conseillée.{' '}
          <button type="button" class="ghost small" onClick={() => setF({ ...f, urgency: String(advice.motive!.urgency) })}>
            Appliquer
          </button>
        </p>
      )}
      <FormMessage error={error} shown={shown} />
      <div class="row submit-row">
        <button type="submit" class="primary" disabled={busy || advice?.covered === false}>
          Enregistrer l'appel <kbd>Ctrl+Entrée</kbd>
        </button>
        <span class="without-visit" role="group" aria-label="Appel sans visite">
          <span class="muted small">Sans visite :</span>
          {(['advice', 'teleconsultation', 'centre', 'hung_up'] as const).map((o) => (
            <button key={o} type="button" class="ghost small" data-outcome={o} disabled={busy} onClick={() => keep(o)}>
              {OUTCOMES[o]}
            </button>
          ))}
        </span>
      </div>
    </form>
  );
}
