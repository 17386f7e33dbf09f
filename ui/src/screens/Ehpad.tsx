// The EHPAD portal: the home's residents, a visit request in a few fields, and the requests with
// their live status, until the report is back: once the doctor has validated it, the request says
// « Compte rendu disponible » (live, from `report.updated`) and the report opens read only, at
// its own address (#compte-rendu/ID), printable.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, get, post } from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { PatientFields } from '../components/PatientFields';
import { age, dateTime, OPEN, patientName, VISIT_STATUS } from '../format';
import { applyToVisits, useEvents } from '../live';
import { readyReport, reportsToAsk, validatedReportEvent, type ReportsKnown } from '../nurseReport';
import type { ReportView } from '../report';
import type { Me, Patient, Visit } from '../types';
import { EhpadReport } from './EhpadReport';

/** How many reports are asked for at once when the list loads. */
const REPORT_REQUESTS = 4;

/** The report being read, from the address (#compte-rendu/ID): the back button leaves it. */
function reportInHash(): number | null {
  const m = location.hash.match(/^#compte-rendu\/(\d+)$/);
  return m ? Number(m[1]) : null;
}

/**
 * The validated reports of the requests: asked for once each visit is closed, and again when the
 * event stream says one was validated.
 */
function useReports(requests: Visit[]) {
  const [known, setKnown] = useState<ReportsKnown>({});
  const pending = useRef(new Set<number>());

  /** Each visit's latest question: an older answer (sent before validation) does not overwrite a newer. */
  const asked = useRef(new Map<number, number>());
  const counter = useRef(0);

  const fetchReport = useCallback(async (id: number) => {
    const mine = ++counter.current;
    asked.current.set(id, mine);
    pending.current.add(id);
    const latest = () => asked.current.get(id) === mine;
    try {
      const r = await get<ReportView>(`/visits/${id}/report`);
      if (latest()) setKnown((k) => ({ ...k, [id]: r.status === 'validated' ? r : null }));
    } catch (e) {
      // 404: still a draft (or none); 403: not this home's. Anything else is asked again later.
      if (latest() && e instanceof ApiError && (e.status === 404 || e.status === 403)) setKnown((k) => ({ ...k, [id]: null }));
    } finally {
      if (latest()) pending.current.delete(id);
    }
  }, []);

  useEffect(() => {
    const ids = reportsToAsk(requests, known).filter((id) => !pending.current.has(id));
    if (ids.length === 0) return;
    for (const id of ids) pending.current.add(id); // queued: not asked twice
    let next = 0;
    const worker = async () => {
      while (next < ids.length) await fetchReport(ids[next++]);
    };
    for (let i = 0; i < Math.min(REPORT_REQUESTS, ids.length); i++) worker();
  }, [requests, known, fetchReport]);

  return { known, fetchReport };
}

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
  const { known, fetchReport } = useReports(requests);
  const link = useEvents(
    (e) => {
      setRequests((vs) => applyToVisits(vs, e));
      const validated = validatedReportEvent(e);
      if (validated != null) fetchReport(validated);
    },
    () => reload().catch(() => {}),
  );
  const sorted = useMemo(
    () => [...requests].sort((a, b) => Number(OPEN.includes(b.status)) - Number(OPEN.includes(a.status)) || b.received_at.localeCompare(a.received_at)),
    [requests],
  );

  const [reading, setReading] = useState<number | null>(reportInHash());
  const [readingVisit, setReadingVisit] = useState<Visit | null>(null);
  useEffect(() => {
    const sync = () => setReading(reportInHash());
    window.addEventListener('popstate', sync);
    window.addEventListener('hashchange', sync);
    return () => {
      window.removeEventListener('popstate', sync);
      window.removeEventListener('hashchange', sync);
    };
  }, []);
  // Opened from its address (a reload, an older request): the visit and its report asked for alone.
  useEffect(() => {
    if (reading == null) return;
    if (!(reading in known)) fetchReport(reading);
    if (!requests.some((v) => v.id === reading) && readingVisit?.id !== reading) {
      get<Visit>(`/visits/${reading}`)
        .then(setReadingVisit)
        .catch(() => closeReport());
    }
  }, [reading, requests]);
  function openReport(id: number) {
    window.history.pushState({ report: id }, '', `#compte-rendu/${id}`);
    setReading(id);
    window.scrollTo(0, 0);
  }
  function closeReport() {
    if (window.history.state?.report) window.history.back();
    else {
      window.history.replaceState(null, '', location.pathname + location.search);
      setReading(null);
    }
  }

  if (reading != null) {
    const visit = requests.find((v) => v.id === reading) ?? (readingVisit?.id === reading ? readingVisit : null);
    const report = visit ? readyReport(visit, known) : null;
    return (
      <div class="ehpad-reading">
        <LinkBanner link={link} />
        {report && visit ? (
          <EhpadReport visit={visit} report={report} onBack={closeReport} />
        ) : (
          <div class="reader">
            <button type="button" class="ghost no-print" onClick={closeReport}>
              ← Mes demandes
            </button>
            <p class="empty">{visit && known[reading] === null ? "Le compte rendu n'est pas encore validé par le médecin." : 'Chargement du compte rendu…'}</p>
          </div>
        )}
      </div>
    );
  }

  return (
    <div class="ehpad">
      <LinkBanner link={link} />
      <section class="panel">
        <h2>Mes demandes</h2>
        {sorted.length === 0 && <p class="empty">Aucune demande.</p>}
        <ul class="requests">
          {sorted.map((v) => {
            const report = readyReport(v, known);
            return (
              <li key={v.id} data-visit={v.id} data-status={v.status} data-report={report ? 'validated' : undefined} class={report ? 'has-report' : undefined}>
                <span class={`chip ${v.status}`}>{VISIT_STATUS[v.status]}</span> <strong>{patientName(v.patient)}</strong> — {v.motive}
                <span class="muted">
                  {' '}
                  · demandé le {dateTime(v.received_at)}
                  {v.doctor ? ` · ${v.doctor.name}` : ''}
                </span>
                {report && (
                  <div class="report-ready">
                    <span class="report-mark" role="status">
                      ✓ Compte rendu disponible
                    </span>
                    <button type="button" class="primary small" onClick={() => openReport(v.id)} aria-label={`Lire le compte rendu de ${patientName(v.patient)}`}>
                      Lire le compte rendu
                    </button>
                  </div>
                )}
              </li>
            );
          })}
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
