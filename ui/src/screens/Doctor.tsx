// The doctor's round, for the phone on the road: my visits in order, one tap for the next step,
// a geo: link to navigate, the patient's history, the visit's report (compte rendu). An
// assistant sees the same for the doctors who delegated to her (she may mark en route / on site
// and draft the report; only the doctor validates and closes). Either of them books a partner
// nurse from a visit (« Infirmière ») and follows the booking live: on the card while the visit is
// open, in « Soins infirmiers en cours » once it is closed.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, post, put } from '../api';
import { toFormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { NurseBookingDialog } from '../components/NurseBookingDialog';
import { NurseBookingStatus } from '../components/NurseBookingStatus';
import { age, clock, dateTime, DOCTOR_STATUS, geoLink, OPEN, patientName, since, VISIT_STATUS } from '../format';
import { applyToVisits, useLiveBoard, useLiveBookings, useTick } from '../live';
import { isActiveBooking } from '../nurse';
import type { Doctor, DoctorStatus, Me, Visit } from '../types';
import { ReportScreen } from './Report';

const NEXT: Partial<Record<Visit['status'], { path: string; label: string }>> = {
  assigned: { path: 'en-route', label: 'En route' },
  en_route: { path: 'on-site', label: 'Sur place' },
};

/** The report screen has its own address (#compte-rendu/ID): the phone's back button leaves it. */
function reportInHash(): number | null {
  const m = location.hash.match(/^#compte-rendu\/(\d+)$/);
  return m ? Number(m[1]) : null;
}

export function DoctorRound(props: { me: Me }) {
  const { visits, setVisits, doctors, setDoctors, link } = useLiveBoard('/visits?limit=200');
  const [notice, setNotice] = useState<string | null>(null);
  const [history, setHistory] = useState<Record<number, Visit[]>>({});
  const isDoctor = props.me.role === 'doctor';
  const [reportId, setReportId] = useState<number | null>(reportInHash());
  const [reportVisit, setReportVisit] = useState<Visit | null>(null);
  // The doctor's (or the delegating doctors') nurse bookings under way, live.
  const { bookings, put: putBooking } = useLiveBookings('/nurse-bookings?active=true');
  const [nurseFor, setNurseFor] = useState<Visit | null>(null);
  const phoneOf = (v: Visit) => doctors.find((d) => d.id === v.doctor?.id)?.phone ?? null;

  useEffect(() => {
    const sync = () => setReportId(reportInHash());
    window.addEventListener('popstate', sync);
    window.addEventListener('hashchange', sync);
    return () => {
      window.removeEventListener('popstate', sync);
      window.removeEventListener('hashchange', sync);
    };
  }, []);
  // A visit not in the list (an old one, a reload on its address): asked for alone.
  useEffect(() => {
    if (reportId == null || visits.some((v) => v.id === reportId) || reportVisit?.id === reportId) return;
    get<Visit>(`/visits/${reportId}`)
      .then(setReportVisit)
      .catch((e) => {
        setNotice(toFormError(e).message);
        setReportId(null);
        window.history.replaceState(null, '', location.pathname + location.search);
      });
  }, [reportId, visits]);

  function openReport(v: Visit) {
    window.history.pushState({ report: v.id }, '', `#compte-rendu/${v.id}`);
    setReportId(v.id);
    window.scrollTo(0, 0);
  }
  function closeReport() {
    if (window.history.state?.report) window.history.back();
    else {
      window.history.replaceState(null, '', location.pathname + location.search);
      setReportId(null);
    }
  }

  const open = useMemo(
    () => visits.filter((v) => OPEN.includes(v.status)).sort((a, b) => a.urgency - b.urgency || a.received_at.localeCompare(b.received_at)),
    [visits],
  );
  const done = useMemo(() => visits.filter((v) => !OPEN.includes(v.status)).slice(0, 10), [visits]);
  // Bookings of visits no longer open: the nurse may still accept, or propose another time.
  const elsewhere = useMemo(
    () => bookings.filter((b) => !open.some((v) => v.id === b.visit_id) && (isActiveBooking(b) || b.status === 'declined')),
    [bookings, open],
  );

  async function step(v: Visit) {
    const next = NEXT[v.status];
    if (!next) return;
    try {
      const updated = await post<Visit>(`/visits/${v.id}/${next.path}`);
      setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.status', data: updated }));
      setNotice(null);
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

  async function setStatus(d: Doctor, status: DoctorStatus) {
    try {
      const updated = await put<Doctor>(`/doctors/${d.id}/status`, { status });
      setDoctors((ds) => ds.map((x) => (x.id === d.id ? updated : x)));
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

  async function toggleHistory(v: Visit) {
    if (history[v.id]) {
      const { [v.id]: _, ...rest } = history;
      return setHistory(rest);
    }
    try {
      const p = await get<{ visits: Visit[] }>(`/patients/${v.patient.id}`);
      setHistory({ ...history, [v.id]: p.visits.filter((x) => x.id !== v.id) });
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

  const now = useTick(30000);
  if (reportId != null) {
    const v = visits.find((x) => x.id === reportId) ?? (reportVisit?.id === reportId ? reportVisit : null);
    if (!v) return <p class="loading">Chargement…</p>;
    return (
      <div class="round">
        <LinkBanner link={link} />
        <ReportScreen
          key={v.id}
          me={props.me}
          visit={v}
          doctorPhone={phoneOf(v)}
          onBack={closeReport}
          onVisit={(updated) => {
            setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.status', data: updated }));
            setReportVisit(updated);
          }}
        />
      </div>
    );
  }
  return (
    <div class="round">
      <LinkBanner link={link} />
      {doctors.map((d) => (
        <div class="me-status" key={d.id}>
          <span>
            {isDoctor ? 'Mon statut' : d.name} : <span class={`chip ${d.status}`}>{DOCTOR_STATUS[d.status]}</span>
          </span>
          <span class="buttons">
            {(['available', 'at_centre', 'off_duty'] as DoctorStatus[]).map((s) => (
              <button key={s} class={d.status === s ? 'on' : 'ghost'} onClick={() => setStatus(d, s)}>
                {DOCTOR_STATUS[s]}
              </button>
            ))}
          </span>
        </div>
      ))}
      {notice && <p class="error" role="alert">{notice}</p>}
      <h2>
        {isDoctor ? 'Mes visites' : 'Visites des médecins suivis'} <span class="count">{open.length}</span>
      </h2>
      {open.length === 0 && <p class="empty">Aucune visite en cours.</p>}
      <ul class="cards">
        {open.map((v) => {
          const next = NEXT[v.status];
          const onSite = v.status === 'on_site';
          const nurses = bookings.filter((b) => b.visit_id === v.id);
          return (
            <li key={v.id} class={`card p${v.urgency}`} data-visit={v.id} data-status={v.status}>
              <div class="line1">
                <span class={`urgency p${v.urgency}`}>P{v.urgency}</span>
                <strong>{patientName(v.patient)}</strong>
                {age(v.patient.birth_date) != null && <span class="muted">{age(v.patient.birth_date)} ans</span>}
                <span class={`chip ${v.status}`}>{VISIT_STATUS[v.status]}</span>
              </div>
              <p class="motive">{v.motive}</p>
              <a class="address" href={geoLink(v.address)}>
                ➜ {v.address.line}, {v.address.postcode} {v.address.city}
              </a>
              {v.address.details && <p class="muted">{v.address.details}</p>}
              {v.notes && <p class="notes">{v.notes}</p>}
              <p class="muted">
                Appel reçu à {clock(v.received_at)} ({since(v.received_at, now)}){v.caller_phone ? ` · ☎ ${v.caller_phone}` : ''}
                {!isDoctor && v.doctor ? ` · ${v.doctor.name}` : ''}
              </p>
              <div class="actions">
                {next && (
                  <button class="primary big" onClick={() => step(v)}>
                    {next.label}
                  </button>
                )}
                <button class={onSite ? 'primary big' : 'ghost'} onClick={() => openReport(v)}>
                  {onSite && isDoctor ? 'Clôturer / Compte rendu' : 'Compte rendu'}
                </button>
                <button class="ghost" onClick={() => toggleHistory(v)}>
                  Historique
                </button>
                {/* At the bedside (the report screen offers it at any time). */}
                {(onSite || nurses.length > 0) && (
                  <button class="ghost" onClick={() => setNurseFor(v)} aria-label="Demander une infirmière">
                    <span aria-hidden="true">🩺</span> Infirmière
                  </button>
                )}
              </div>
              {nurses.map((b) => (
                <NurseBookingStatus key={b.id} booking={b} onChange={putBooking} canAct />
              ))}
              {history[v.id] && (
                <ul class="history">
                  {history[v.id].length === 0 && <li class="muted">Première visite de l'association.</li>}
                  {history[v.id].map((h) => (
                    <li key={h.id}>
                      {dateTime(h.received_at)} — {h.motive} — {VISIT_STATUS[h.status]}
                      {h.doctor ? ` (${h.doctor.name})` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
      {elsewhere.length > 0 && (
        <section class="nurse-elsewhere" aria-label="Soins infirmiers en cours">
          <h2>
            Soins infirmiers en cours <span class="count">{elsewhere.length}</span>
          </h2>
          {elsewhere.map((b) => {
            const v = visits.find((x) => x.id === b.visit_id);
            return (
              <div key={b.id} class="nurse-for">
                {v && <p class="muted small">{patientName(v.patient)} · {v.address.city}</p>}
                <NurseBookingStatus booking={b} onChange={putBooking} canAct />
              </div>
            );
          })}
        </section>
      )}
      {nurseFor && (
        <NurseBookingDialog visit={nurseFor} me={props.me} callbackPhone={phoneOf(nurseFor)} onBooked={putBooking} onClose={() => setNurseFor(null)} />
      )}
      {done.length > 0 && (
        <details class="done">
          <summary>Terminées récemment ({done.length})</summary>
          <ul>
            {done.map((v) => (
              <li key={v.id} data-visit={v.id} data-status={v.status}>
                <span>
                  {clock(v.closed_at ?? v.updated_at)} — {patientName(v.patient)} — {VISIT_STATUS[v.status]}
                  {!isDoctor && v.doctor ? ` (${v.doctor.name})` : ''}
                </span>
                {v.status === 'closed' && v.doctor && (
                  <button class="ghost small" onClick={() => openReport(v)}>
                    Compte rendu
                  </button>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
