// The EHPAD portal: the home's residents, a visit request in a few fields, and the requests with
// their live status.

import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { get, post } from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { PatientFields } from '../components/PatientFields';
import { age, dateTime, OPEN, patientName, VISIT_STATUS } from '../format';
import { applyToVisits, useEvents } from '../live';
import type { Me, Patient, Visit } from '../types';

export function Ehpad(props: { me: Me }) {
  const [residents, setResidents] = useState<Patient[]>([]);
  const [requests, setRequests] = useState<Visit[]>([]);
  const [asking, setAsking] = useState<Patient | null>(null);
  const [adding, setAdding] = useState(false);
  const inst = props.me.institution_id;

  const reload = useCallback(async () => {
    const [r, v] = await Promise.all([get<Patient[]>(`/institutions/${inst}/residents`), get<Visit[]>('/visits?limit=200')]);
    setResidents(r);
    setRequests(v);
  }, [inst]);
  useEffect(() => {
    reload().catch(() => {});
  }, [reload]);
  const link = useEvents((e) => setRequests((vs) => applyToVisits(vs, e)), () => reload().catch(() => {}));
  const sorted = useMemo(
    () => [...requests].sort((a, b) => Number(OPEN.includes(b.status)) - Number(OPEN.includes(a.status)) || b.received_at.localeCompare(a.received_at)),
    [requests],
  );

  return (
    <div class="ehpad">
      <LinkBanner link={link} />
      <section class="panel">
        <h2>Mes demandes</h2>
        {sorted.length === 0 && <p class="empty">Aucune demande.</p>}
        <ul class="requests">
          {sorted.map((v) => (
            <li key={v.id} data-visit={v.id} data-status={v.status}>
              <span class={`chip ${v.status}`}>{VISIT_STATUS[v.status]}</span> <strong>{patientName(v.patient)}</strong> — {v.motive}
              <span class="muted">
                {' '}
                · demandé le {dateTime(v.received_at)}
                {v.doctor ? ` · ${v.doctor.name}` : ''}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section class="panel">
        <h2>
          Résidents <span class="count">{residents.length}</span>
          <button class="ghost small" onClick={() => setAdding(!adding)}>
            + Nouveau résident
          </button>
        </h2>
        {adding && (
          <NewResident
            onDone={(p) => {
              setResidents([...residents, p]);
              setAdding(false);
            }}
          />
        )}
        <ul class="residents">
          {residents.map((p) => (
            <li key={p.id} data-patient={p.id}>
              <span>
                <strong>{patientName(p)}</strong> {age(p.birth_date) != null && <span class="muted">{age(p.birth_date)} ans</span>}
              </span>
              <button class="primary small" onClick={() => setAsking(p)}>
                Demander une visite
              </button>
              {asking?.id === p.id && (
                <RequestForm
                  patient={p}
                  onDone={(v) => {
                    setRequests((vs) => applyToVisits(vs, { id: 0, kind: 'visit.created', data: v }));
                    setAsking(null);
                  }}
                  onCancel={() => setAsking(null)}
                />
              )}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function RequestForm(props: { patient: Patient; onDone: (v: Visit) => void; onCancel: () => void }) {
  const [motive, setMotive] = useState('');
  const [urgency, setUrgency] = useState('2');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      const v = await post<Visit>('/calls', { patient_id: props.patient.id, motive, urgency: Number(urgency), notes: notes || null });
      props.onDone(v);
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <form class="form request" onSubmit={submit} aria-label={`Demande pour ${patientName(props.patient)}`}>
      <Field label="Motif" name="motive" error={error} wide>
        <input value={motive} onInput={(e) => setMotive((e.target as HTMLInputElement).value)} autoFocus />
      </Field>
      <Field label="Urgence" name="urgency" error={error}>
        <select value={urgency} onChange={(e) => setUrgency((e.target as HTMLSelectElement).value)}>
          <option value="1">1 — dans l'heure</option>
          <option value="2">2 — dans les 3 heures</option>
          <option value="3">3 — dans la journée</option>
        </select>
      </Field>
      <Field label="Notes, résultats biologiques" name="notes" error={error} wide>
        <textarea rows={3} value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <FormMessage error={error} shown={['motive', 'urgency', 'notes']} />
      <button type="submit" class="primary">
        Envoyer la demande
      </button>
      <button type="button" class="ghost" onClick={props.onCancel}>
        Annuler
      </button>
    </form>
  );
}

function NewResident(props: { onDone: (p: Patient) => void }) {
  const [f, setF] = useState({ birth_name: '', first_names: '', birth_date: '', sex: 'U' });
  const [error, setError] = useState<FormError | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      props.onDone(await post<Patient>('/patients', { ...f, birth_date: f.birth_date || null }));
    } catch (err) {
      setError(toFormError(err));
    }
  }
  return (
    <form class="form" onSubmit={submit} aria-label="Nouveau résident">
      <PatientFields value={f} onChange={(k, v) => setF({ ...f, [k]: v })} error={error} />
      <FormMessage error={error} shown={['birth_name', 'first_names', 'birth_date']} />
      <button class="primary" type="submit">
        Enregistrer
      </button>
    </form>
  );
}
