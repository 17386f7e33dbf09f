// The doctor's round, for the phone on the road: my visits in order, one tap for the next step,
// a geo: link to navigate, the patient's history, the visit's report (compte rendu). An
// assistant sees the same for the doctors who delegated to her (she may mark en route / on site
// and draft the report; only the doctor validates and closes). Either of them books a partner
// nurse from a visit (« Infirmière ») and follows the booking live: on the card while the visit is
// open, in « Soins infirmiers en cours » once it is closed.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, get, newIdempotencyKey, post, put } from '../api';
import { toFormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { NurseBookingDialog } from '../components/NurseBookingDialog';
import { NurseBookingStatus } from '../components/NurseBookingStatus';
import { HandTo15 } from '../components/HandTo15';
import { PatientHistory, type HistoryEntry } from '../components/PatientHistory';
import { age, clock, DOCTOR_STATUS, navigationLinks, OPEN, patientName, platformOf, since, telLink, VISIT_STATUS } from '../format';
import { applyToVisits, useLiveBoard, useLiveBookings, useTick } from '../live';
import { isActiveBooking } from '../nurse';
import { unseenVisits, useVisitAlerts } from '../alerts';
import { alreadyThere, dropStep, keepRead, pendingSteps, projected, queueStep, refuseStep, type PendingStep } from '../offline';
import type { Doctor, DoctorStatus, Me, Visit } from '../types';
import { usePositionSharing, type Sharing } from '../position';
import { PendingDelegations } from './Account';
import { ReportScreen } from './Report';

const NEXT: Partial<Record<Visit['status'], { path: string; label: string }>> = {
  assigned: { path: 'en-route', label: 'En route' },
  en_route: { path: 'on-site', label: 'Sur place' },
};

/** The round's read (kept on the phone for offline use). */
const ROUND = '/visits?limit=200';

/** How often steps made offline try to reach the hub again. */
const REPLAY_MS = 15_000;

/** The report screen has its own address (#compte-rendu/ID): the phone's back button leaves it. */
function reportInHash(): number | null {
  const m = location.hash.match(/^#compte-rendu\/(\d+)$/);
  return m ? Number(m[1]) : null;
}

export function DoctorRound(props: { me: Me }) {
  const { visits, setVisits, doctors, setDoctors, link } = useLiveBoard(ROUND);
  const [notice, setNotice] = useState<string | null>(null);
  const [history, setHistory] = useState<Record<number, HistoryEntry[]>>({});
  const isDoctor = props.me.role === 'doctor';
  const [reportId, setReportId] = useState<number | null>(reportInHash());
  const [reportVisit, setReportVisit] = useState<Visit | null>(null);
  // The doctor's (or the delegating doctors') nurse bookings under way, live.
  const { bookings, put: putBooking } = useLiveBookings('/nurse-bookings?active=true');
  const [nurseFor, setNurseFor] = useState<Visit | null>(null);
  // Steps tapped without network, in order, until the hub has them.
  const [pending, setPending] = useState<PendingStep[]>([]);
  const platform = useMemo(() => platformOf(), []);
  const phoneOf = (v: Visit) => doctors.find((d) => d.id === v.doctor?.id)?.phone ?? null;
  // The doctor's own phone shares its position while he is on duty (an assistant's does not).
  const mine = isDoctor ? doctors.find((d) => d.id === props.me.id) : undefined;
  const replaceDoctor = (d: Doctor) => setDoctors((ds) => ds.map((x) => (x.id === d.id ? d : x)));
  const sharing = usePositionSharing(mine, !!mine && mine.status !== 'off_duty' && !mine.sharing_paused_at, replaceDoctor);
  // A visit given to him rings until he says he saw it.
  const unseen = useMemo(() => unseenVisits(visits, isDoctor ? props.me.id : undefined), [visits]);
  const alerts = useVisitAlerts(unseen);
  async function acknowledge(v: Visit) {
    try {
      const updated = await post<Visit>(`/visits/${v.id}/seen`);
      setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.seen', data: updated }));
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

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
        // Without network the round (kept on the phone) brings it.
        if (e instanceof ApiError && e.status === 0) return;
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
    () =>
      visits
        .filter((v) => OPEN.includes(v.status))
        .map((v) => projected(v, pending))
        .sort((a, b) => a.urgency - b.urgency || a.received_at.localeCompare(b.received_at)),
    [visits, pending],
  );
  const done = useMemo(() => visits.filter((v) => !OPEN.includes(v.status)).slice(0, 10), [visits]);
  // Bookings of visits no longer open: the nurse may still accept, or propose another time.
  const elsewhere = useMemo(
    () => bookings.filter((b) => !open.some((v) => v.id === b.visit_id) && (isActiveBooking(b) || b.status === 'declined')),
    [bookings, open],
  );

  const reloadPending = () => pendingSteps().then(setPending);
  const replaying = useRef(false);

  /** Sends the steps made offline, oldest first; stops at the first that still cannot leave. */
  async function replay() {
    if (replaying.current) return;
    replaying.current = true;
    try {
      for (const s of await pendingSteps()) {
        if (s.refused) continue;
        try {
          const updated = await api<Visit>('POST', `/visits/${s.visitId}/${s.path}`, { at: s.at }, { 'Idempotency-Key': s.key });
          setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.status', data: updated }));
          await dropStep(s.key);
        } catch (e) {
          if (e instanceof ApiError && e.status === 0) break;
          const now = await get<Visit>(`/visits/${s.visitId}`).catch(() => undefined);
          if (alreadyThere(now, s)) await dropStep(s.key);
          else await refuseStep(s, toFormError(e).message);
        }
      }
    } finally {
      replaying.current = false;
      await reloadPending();
    }
  }

  useEffect(() => {
    replay();
    const online = () => replay();
    window.addEventListener('online', online);
    const again = setInterval(() => replay(), REPLAY_MS);
    return () => {
      window.removeEventListener('online', online);
      clearInterval(again);
    };
  }, []);
  useEffect(() => {
    if (link === 'live') replay();
  }, [link]);

  async function step(v: Visit) {
    const next = NEXT[v.status];
    if (!next) return;
    const s: PendingStep = { key: newIdempotencyKey(), visitId: v.id, path: next.path, at: new Date().toISOString() };
    // Behind a step still waiting for the network, this one waits too (they go in order).
    if (pending.some((p) => !p.refused)) {
      await queueStep(s);
      await reloadPending();
      return replay();
    }
    try {
      const updated = await api<Visit>('POST', `/visits/${v.id}/${next.path}`, {}, { 'Idempotency-Key': s.key });
      setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.status', data: updated }));
      setNotice(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 0) {
        await queueStep(s);
        await reloadPending();
      } else setNotice(toFormError(e).message);
    }
  }

  // The doctor hands the case to the 15 himself (with a reason the board and the 15 read).
  async function handTo15(v: Visit, reason: string) {
    try {
      const updated = await post<Visit>(`/visits/${v.id}/redirect-15`, { reason });
      setVisits((vs) => applyToVisits(vs, { id: 0, kind: 'visit.status', data: updated }));
      setNotice('Cas transféré au 15 : appelez la régulation si le patient est en danger immédiat.');
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

  // The kept copy of the round follows what the stream brings.
  useEffect(() => {
    if (link === 'live') keepRead(ROUND, visits);
  }, [visits, link]);

  // Each open visit's file is read once while the network is there, so that the phone has it
  // in a cellar (the reads are kept by api.ts).
  const prefetched = useRef(new Set<number>());
  useEffect(() => {
    if (link !== 'live') return;
    for (const v of visits) {
      if (!OPEN.includes(v.status) || prefetched.current.has(v.id)) continue;
      prefetched.current.add(v.id);
      for (const path of [`/visits/${v.id}`, `/visits/${v.id}/report`, `/visits/${v.id}/ecgs`, `/visits/${v.id}/letter`, `/patients/${v.patient.id}`]) {
        get(path).catch(() => {});
      }
    }
  }, [visits, link]);

  async function dismiss(s: PendingStep) {
    await dropStep(s.key);
    await reloadPending();
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
      const entries = await get<HistoryEntry[]>(`/patients/${v.patient.id}/history`);
      setHistory({ ...history, [v.id]: entries.filter((x) => x.visit_id !== v.id) });
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
      {isDoctor && <PendingDelegations />}
      {unseen.length > 0 && (
        <section class="new-visits" role="alert" aria-label="Nouvelles visites">
          {unseen.map((v) => (
            <div key={v.id} class={`new-visit p${v.urgency}`} data-visit={v.id}>
              <span>
                <strong>Nouvelle visite P{v.urgency}</strong> · {v.motive} · {v.address.city}
                <span class="muted"> · {clock(v.assigned_at)}</span>
              </span>
              <button class="primary" onClick={() => acknowledge(v)}>
                Vu
              </button>
            </div>
          ))}
        </section>
      )}
      {isDoctor && alerts.permission === 'default' && (
        <p class="alerts-off">
          Pour être prévenu d'une nouvelle visite même écran éteint :{' '}
          <button class="ghost small" onClick={alerts.askPermission}>
            Activer les alertes
          </button>
        </p>
      )}
      {isDoctor && alerts.permission === 'denied' && (
        <p class="alerts-off muted">Alertes système refusées par ce navigateur : seule la sonnerie de la page prévient (réglages du navigateur pour les autoriser).</p>
      )}
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
          {d.id === mine?.id && <PositionLine doctor={d} sharing={sharing} onChange={replaceDoctor} onError={setNotice} />}
        </div>
      ))}
      {notice && <p class="error" role="alert">{notice}</p>}
      {pending
        .filter((s) => s.refused)
        .map((s) => {
          const v = visits.find((x) => x.id === s.visitId);
          return (
            <p class="error" role="alert" key={s.key} data-testid="step-refused">
              « {s.path === 'en-route' ? 'En route' : 'Sur place'} » de {clock(s.at)}
              {v ? ` (${patientName(v.patient)})` : ''} n'a pas été accepté : {s.refused}{' '}
              <button class="ghost small" onClick={() => dismiss(s)}>
                OK
              </button>
            </p>
          );
        })}
      <h2>
        {isDoctor ? 'Mes visites' : 'Visites des médecins suivis'} <span class="count">{open.length}</span>
      </h2>
      {open.length === 0 && <p class="empty">Aucune visite en cours.</p>}
      <ul class="cards">
        {open.map((v) => {
          const next = NEXT[v.status];
          const onSite = v.status === 'on_site';
          const nurses = bookings.filter((b) => b.visit_id === v.id);
          const nav = navigationLinks(v.address, platform);
          return (
            <li key={v.id} class={`card p${v.urgency}`} data-visit={v.id} data-status={v.status}>
              <div class="line1">
                <span class={`urgency p${v.urgency}`}>P{v.urgency}</span>
                <strong>{patientName(v.patient)}</strong>
                {age(v.patient.birth_date) != null && <span class="muted">{age(v.patient.birth_date)} ans</span>}
                <span class={`chip ${v.status}`}>{VISIT_STATUS[v.status]}</span>
                {pending.some((s) => s.visitId === v.id && !s.refused) && (
                  <span class="chip unsent" data-testid="unsent" title="Pas de réseau : envoyé dès son retour">
                    non envoyé
                  </span>
                )}
              </div>
              {/* On the way and at the door, how to get in comes first. */}
              {(v.status === 'en_route' || onSite) && v.address.details && (
                <p class="access" data-testid="access">
                  Accès : {v.address.details}
                </p>
              )}
              <p class="motive">{v.motive}</p>
              <a class="address" href={nav[0].href} target={nav[0].href.startsWith('http') ? '_blank' : undefined} rel="noopener">
                ➜ {v.address.line}, {v.address.postcode} {v.address.city}
              </a>
              <span class="nav-links">
                {nav.slice(1).map((l) => (
                  <a key={l.label} href={l.href} target="_blank" rel="noopener">
                    {l.label}
                  </a>
                ))}
              </span>
              {v.address.details && v.status !== 'en_route' && !onSite && <p class="muted">{v.address.details}</p>}
              {v.notes && <p class="notes">{v.notes}</p>}
              <p class="muted">
                Appel reçu à {clock(v.received_at)} ({since(v.received_at, now)})
                {v.caller_phone && (
                  <>
                    {' · '}
                    <a class="tel" href={telLink(v.caller_phone)}>
                      Appeler {v.caller_phone}
                    </a>
                  </>
                )}
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
                {isDoctor && (v.status === 'assigned' || v.status === 'en_route') && <HandTo15 onSend={(reason) => handTo15(v, reason)} />}
                {/* At the bedside (the report screen offers it at any time). */}
                {(onSite || nurses.length > 0) && (
                  <button class="ghost" onClick={() => setNurseFor(v)} aria-label="Demander une infirmière">
                    Infirmière
                  </button>
                )}
              </div>
              {nurses.map((b) => (
                <NurseBookingStatus key={b.id} booking={b} onChange={putBooking} canAct />
              ))}
              {history[v.id] && <PatientHistory entries={history[v.id]} />}
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

/** What the doctor's phone does with his position, and the switch to pause it. */
function PositionLine(props: { doctor: Doctor; sharing: Sharing; onChange: (d: Doctor) => void; onError: (m: string) => void }) {
  const now = useTick(5000);
  const d = props.doctor;
  const s = props.sharing;
  const pause = (paused: boolean) =>
    put<Doctor>(`/doctors/${d.id}/sharing`, { paused })
      .then(props.onChange)
      .catch((e) => props.onError(toFormError(e).message));
  let text: string;
  if (d.sharing_paused_at) text = 'Partage de la position suspendu : le standard le voit.';
  else if (d.status === 'off_duty') text = 'Hors service : position non partagée.';
  else if (s.state === 'waiting') text = 'Recherche de la position…';
  else if (s.state === 'denied') text = 'Position non partagée : autorisez la localisation pour Chevet dans le navigateur.';
  else if (s.state === 'unsent') text = `Position non envoyée (pas de réseau), relevée il y a ${since(new Date(s.last.at).toISOString(), now)}.`;
  else if (s.state === 'sharing')
    text = `Position partagée${s.last.accuracy ? ` (± ${Math.round(s.last.accuracy)} m)` : ''}, envoyée il y a ${since(new Date(s.last.at).toISOString(), now)}.`;
  else text = 'Position non partagée.';
  return (
    <p class={`position-line ${s.state}`} data-testid="position-line">
      <span>{text}</span>{' '}
      {d.status !== 'off_duty' &&
        (d.sharing_paused_at ? (
          <button class="ghost small" onClick={() => pause(false)}>
            Reprendre le partage
          </button>
        ) : (
          <button class="ghost small" onClick={() => pause(true)}>
            Suspendre le partage
          </button>
        ))}
    </p>
  );
}
