// The call journal: every call the association took, whatever its outcome, searched by name,
// phone, address, dates, outcome and doctor; a call opens on its visit's full timeline (every
// step, who made it, on whose behalf). The same search exports as CSV.

import { useEffect, useState } from 'preact/hooks';
import { download, get } from '../api';
import { toFormError } from '../components/form';
import { dateTime, OUTCOMES, parisToUtc, patientName, VISIT_STATUS } from '../format';
import type { Call, Doctor } from '../types';

interface Criteria {
  q: string;
  phone: string;
  address: string;
  from: string;
  to: string;
  outcome: string;
  doctor_id: string;
}

const NONE: Criteria = { q: '', phone: '', address: '', from: '', to: '', outcome: '', doctor_id: '' };

/** The query string of a search (dates are Paris days: from 00:00 to the next day's 00:00). */
export function journalQuery(c: Criteria, page = 0): string {
  const p = new URLSearchParams();
  if (c.q.trim()) p.set('q', c.q.trim());
  if (c.phone.trim()) p.set('phone', c.phone.trim());
  if (c.address.trim()) p.set('address', c.address.trim());
  if (c.from) p.set('from', parisToUtc(c.from, '00:00'));
  if (c.to) {
    const [y, m, d] = c.to.split('-').map(Number);
    const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
    p.set('to', parisToUtc(next, '00:00'));
  }
  if (c.outcome) p.set('outcome', c.outcome);
  if (c.doctor_id) p.set('doctor_id', c.doctor_id);
  p.set('limit', '100');
  if (page) p.set('offset', String(page * 100));
  return p.toString();
}

export function Journal() {
  const [c, setC] = useState<Criteria>({ ...NONE });
  const [calls, setCalls] = useState<Call[] | null>(null);
  const [page, setPage] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [doctors, setDoctors] = useState<Doctor[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const set = (k: keyof Criteria) => (e: Event) => setC({ ...c, [k]: (e.target as HTMLInputElement).value });

  useEffect(() => {
    get<Doctor[]>('/doctors').then(setDoctors).catch(() => {});
  }, []);
  // Searched as it is typed (a quarter of a second after the last key).
  useEffect(() => {
    const t = setTimeout(() => {
      get<Call[]>(`/calls?${journalQuery(c, page)}`)
        .then((r) => {
          setCalls(r);
          setError(null);
        })
        .catch((e) => setError(toFormError(e).message));
    }, 250);
    return () => clearTimeout(t);
  }, [c, page]);

  async function exportCsv() {
    try {
      await download(`/calls/export.csv?${journalQuery(c).replace(/(^|&)limit=100/, '')}`, 'journal-des-appels.csv');
    } catch (e) {
      setError(toFormError(e).message);
    }
  }

  return (
    <section class="panel journal" aria-label="Journal des appels">
      <h2>
        Journal des appels
        <span class="spacer" />
        <button class="ghost small" onClick={exportCsv}>
          Exporter (CSV)
        </button>
      </h2>
      <form class="row filters" onSubmit={(e) => e.preventDefault()} aria-label="Rechercher un appel">
        <label class="field">
          <span>Nom (patient ou appelant)</span>
          <input value={c.q} onInput={set('q')} name="q" />
        </label>
        <label class="field">
          <span>Téléphone</span>
          <input value={c.phone} onInput={set('phone')} name="phone" type="tel" />
        </label>
        <label class="field">
          <span>Adresse</span>
          <input value={c.address} onInput={set('address')} name="address" />
        </label>
        <label class="field">
          <span>Du</span>
          <input type="date" value={c.from} onInput={set('from')} name="from" />
        </label>
        <label class="field">
          <span>Au</span>
          <input type="date" value={c.to} onInput={set('to')} name="to" />
        </label>
        <label class="field">
          <span>Issue</span>
          <select value={c.outcome} onChange={set('outcome')} name="outcome">
            <option value="">Toutes</option>
            {Object.entries(OUTCOMES).map(([k, v]) => (
              <option value={k} key={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Médecin</span>
          <select value={c.doctor_id} onChange={set('doctor_id')} name="doctor_id">
            <option value="">Tous</option>
            {doctors.map((d) => (
              <option value={d.id} key={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="ghost small" onClick={() => { setC({ ...NONE }); setPage(0); }}>
          Effacer
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {calls && calls.length === 0 && <p class="empty">Aucun appel ne correspond.</p>}
      {calls && calls.length > 0 && (
        <table class="list calls" data-testid="journal">
          <thead>
            <tr>
              <th>Reçu</th>
              <th>Appelant</th>
              <th>Patient</th>
              <th>Adresse</th>
              <th>Motif</th>
              <th>Issue</th>
              <th>Visite</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((call) => (
              <>
                <tr key={call.id} data-call={call.id} class={open === call.id ? 'open' : ''} onClick={() => setOpen(open === call.id ? null : call.id)}>
                  <td class="nowrap">{dateTime(call.received_at)}</td>
                  <td>
                    {call.caller_name ?? ''}
                    {call.caller_phone && <span class="muted small"> {call.caller_phone}</span>}
                  </td>
                  <td>{call.patient ? patientName(call.patient) : <span class="muted">—</span>}</td>
                  <td>
                    {call.address ? `${call.address.line}, ${call.address.city}` : <span class="muted">—</span>}
                    {call.coverage === 'out_of_sector' && <span class="chip cancelled"> hors secteur</span>}
                  </td>
                  <td>
                    {call.urgency && <span class={`urgency p${call.urgency}`}>P{call.urgency}</span>} {call.motive ?? ''}
                  </td>
                  <td data-testid="outcome">
                    {OUTCOMES[call.outcome]}
                    <span class="muted small"> · {call.outcome_by?.name ?? ''}</span>
                  </td>
                  <td>
                    {call.visit && (
                      <>
                        <span class={`chip ${call.visit.status}`}>{VISIT_STATUS[call.visit.status]}</span> {call.visit.doctor?.name ?? ''}
                      </>
                    )}
                  </td>
                </tr>
                {open === call.id && (
                  <tr class="detail" key={`d${call.id}`}>
                    <td colSpan={7}>
                      <CallDetail call={call} />
                    </td>
                  </tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      )}
      <p class="pager">
        {page > 0 && (
          <button class="ghost small" onClick={() => setPage(page - 1)}>
            ← Plus récents
          </button>
        )}
        {calls && calls.length === 100 && (
          <button class="ghost small" onClick={() => setPage(page + 1)}>
            Plus anciens →
          </button>
        )}
      </p>
    </section>
  );
}

interface Step {
  from_status: string | null;
  to_status: string;
  at: string;
  actor_name: string;
  on_behalf_of_name: string | null;
  doctor_name: string | null;
  reason: string | null;
}

/** A call's details and, when it opened a visit, every step of it and who made it. */
function CallDetail(props: { call: Call }) {
  const c = props.call;
  const [steps, setSteps] = useState<Step[] | null>(null);
  useEffect(() => {
    if (c.visit) get<{ history: Step[] }>(`/visits/${c.visit.id}`).then((d) => setSteps(d.history)).catch(() => setSteps([]));
  }, [c.visit?.id]);
  return (
    <div class="call-detail">
      <p>
        Reçu par <strong>{c.received_by.name}</strong> le {dateTime(c.received_at)}
        {c.outcome_at && (
          <>
            {' '}· issue « {OUTCOMES[c.outcome]} » décidée par <strong>{c.outcome_by?.name}</strong> le {dateTime(c.outcome_at)}
          </>
        )}
        {c.sector && <> · secteur {c.sector.name}</>}
      </p>
      {c.notes && <p class="notes">{c.notes}</p>}
      {steps && steps.length > 0 && (
        <ol class="timeline" aria-label="Chronologie de la visite">
          {steps.map((s, i) => (
            <li key={i}>
              <span class="nowrap">{dateTime(s.at)}</span> — {VISIT_STATUS[s.to_status as keyof typeof VISIT_STATUS] ?? s.to_status}
              {s.doctor_name && s.to_status === 'assigned' && <> à {s.doctor_name}</>}
              <span class="muted">
                {' '}
                par {s.actor_name}
                {s.on_behalf_of_name && <> pour {s.on_behalf_of_name}</>}
              </span>
              {s.reason && <em> — {s.reason}</em>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
