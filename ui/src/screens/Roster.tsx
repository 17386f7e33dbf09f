// The duty roster (tableau de garde): a week of shifts, one line per doctor. A click on a free
// stretch of a line plans a shift there (the usual night prefilled), a click on a shift opens it
// to change or remove it, its ends drag to resize it; a week is copied onto the next in one
// click, a spreadsheet (CSV) imports. Who is on call now and next is read at the top.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, del, get, post, put } from '../api';
import { Field, FormMessage, toFormError, type FormError } from '../components/form';
import { addDays, clock, dateTime, dayLabel, mondayOf, parisParts, parisToUtc } from '../format';
import { useHubEvent } from '../live';
import type { Doctor, RosterChange, Sector, Shift } from '../types';

const WEEK_MS = 7 * 24 * 3600_000;
const SNAP_MIN = 30;

/** What the shift form edits: Paris days and times. */
interface Draft {
  id: number | null;
  doctor_id: string;
  start_day: string;
  start_time: string;
  end_day: string;
  end_time: string;
  sector_id: string;
}

function draftOf(s: Shift): Draft {
  const a = parisParts(s.starts_at);
  const b = parisParts(s.ends_at);
  const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return {
    id: s.id,
    doctor_id: String(s.doctor_id),
    start_day: a.date,
    start_time: hm(a.minutes),
    end_day: b.date,
    end_time: hm(b.minutes),
    sector_id: s.sector_id == null ? '' : String(s.sector_id),
  };
}

export function Roster() {
  const [monday, setMonday] = useState(() => mondayOf(new Date()));
  const [shifts, setShifts] = useState<Shift[]>([]);
  const [doctors, setDoctors] = useState<Doctor[]>([]);
  const [sectors, setSectors] = useState<Sector[]>([]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const from = parisToUtc(monday, '00:00');
  const to = parisToUtc(addDays(monday, 7), '00:00');

  // Who is on call now and in the next 24 hours, whatever week is shown.
  const [soon, setSoon] = useState<Shift[]>([]);
  // Only the newest read is shown: one started for another week, or before a burst of changes,
  // may answer after it.
  const latest = useRef(0);
  const load = () => {
    const n = ++latest.current;
    get<Shift[]>(`/shifts?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)
      .then((r) => n === latest.current && setShifts(r))
      .catch((e) => setNotice(toFormError(e).message));
    const t = Date.now();
    get<Shift[]>(`/shifts?from=${encodeURIComponent(new Date(t).toISOString())}&to=${encodeURIComponent(new Date(t + 24 * 3600_000).toISOString())}`)
      .then(setSoon)
      .catch(() => {});
  };
  useEffect(() => {
    load();
  }, [monday]);
  useEffect(() => {
    get<Doctor[]>('/doctors').then(setDoctors).catch(() => {});
    get<Sector[]>('/sectors').then(setSectors).catch(() => {});
    const t = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(t);
  }, []);
  // Another planner's change reaches this screen too.
  useHubEvent((e) => {
    if (e.kind === 'shift.changed' || e.kind === 'link.reopened') load();
  });

  async function copyWeek() {
    try {
      const r = await post<RosterChange>('/shifts/copy', { from, to });
      setNotice(
        `${r.created.length} garde(s) copiée(s) sur la semaine du ${dayLabel(addDays(monday, 7))}` +
          (r.skipped.length ? ` ; ${r.skipped.length} déjà prise(s), laissée(s) telle(s) quelle(s)` : ''),
      );
      setMonday(addDays(monday, 7));
    } catch (e) {
      setNotice(toFormError(e).message);
    }
  }

  async function importFile(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      const resp = await fetchCsv(await file.text());
      setNotice(`${resp.created.length} garde(s) importée(s) depuis ${file.name}`);
      load();
    } catch (err) {
      // The line at fault is named (« Ligne 3, colonne medecin : … »); nothing was imported.
      setNotice(`${file.name} : rien n’est importé. ${toFormError(err).message}`);
    }
  }

  // Resizing by dragging an end: the new time, snapped, saved on release.
  async function resize(s: Shift, edge: 'start' | 'end', at: Date) {
    const body = {
      doctor_id: s.doctor_id,
      starts_at: edge === 'start' ? at.toISOString() : s.starts_at,
      ends_at: edge === 'end' ? at.toISOString() : s.ends_at,
      sector_id: s.sector_id,
    };
    try {
      await put(`/shifts/${s.id}`, body);
      setNotice(`Garde de ${s.doctor_name} : ${dateTime(body.starts_at)} → ${clock(body.ends_at)}`);
    } catch (e) {
      setNotice(toFormError(e).message);
    }
    load();
  }

  const onNow = soon.filter((s) => Date.parse(s.starts_at) <= now && Date.parse(s.ends_at) > now);
  const next = soon
    .filter((s) => Date.parse(s.starts_at) > now && Date.parse(s.starts_at) < now + 24 * 3600_000)
    .slice(0, 8);
  const rows = useMemo(() => [...doctors].sort((a, b) => a.name.localeCompare(b.name)), [doctors]);
  const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i));

  return (
    <section class="panel roster" aria-label="Tableau de garde">
      <h2>
        Tableau de garde
        <span class="spacer" />
        <button class="ghost small" onClick={() => setMonday(addDays(monday, -7))} aria-label="Semaine précédente">
          ←
        </button>
        <span data-testid="week">Semaine du {dayLabel(monday)}</span>
        <button class="ghost small" onClick={() => setMonday(addDays(monday, 7))} aria-label="Semaine suivante">
          →
        </button>
        <button class="ghost small" onClick={() => setMonday(mondayOf(new Date()))}>
          Cette semaine
        </button>
        <button class="ghost small" onClick={copyWeek} title="Les mêmes gardes, aux mêmes heures, la semaine suivante">
          Copier sur la semaine suivante
        </button>
        <label class="button ghost small" title="medecin;debut;fin;secteur — heures de Paris">
          Importer (CSV)
          <input type="file" accept=".csv,text/csv" onChange={importFile} class="hidden-input" aria-label="Importer un tableau de garde (CSV)" />
        </label>
      </h2>
      <p class="on-call" data-testid="on-call">
        <strong>En garde :</strong>{' '}
        {onNow.length === 0 ? <span class="muted">personne en ce moment</span> : onNow.map((s) => `${s.doctor_name} (jusqu’à ${clock(s.ends_at)})`).join(', ')}
        {next.length > 0 && (
          <>
            {' '}
            · <strong>Ensuite :</strong> {next.map((s) => `${s.doctor_name} à ${clock(s.starts_at)}`).join(', ')}
          </>
        )}
      </p>
      {notice && <p class="notice" role="status">{notice}</p>}
      <div class="week" role="grid" aria-label="Gardes de la semaine">
        <div class="week-head" role="row">
          <span class="who" />
          {days.map((d) => (
            <span key={d} class="day" role="columnheader">
              {dayLabel(d)}
            </span>
          ))}
        </div>
        {rows.map((d) => (
          <DoctorLine
            key={d.id}
            doctor={d}
            shifts={shifts.filter((s) => s.doctor_id === d.id)}
            from={Date.parse(from)}
            now={now}
            onPick={(day, hour) =>
              setDraft({
                id: null,
                doctor_id: String(d.id),
                start_day: day,
                start_time: hour < 12 ? '08:00' : '20:00',
                end_day: hour < 12 ? day : addDays(day, 1),
                end_time: hour < 12 ? '20:00' : '08:00',
                sector_id: '',
              })
            }
            onOpen={(s) => setDraft(draftOf(s))}
            onResize={resize}
            sectors={sectors}
          />
        ))}
      </div>
      {draft && (
        <ShiftForm
          draft={draft}
          doctors={rows}
          sectors={sectors}
          onClose={() => setDraft(null)}
          onSaved={(msg) => {
            setDraft(null);
            setNotice(msg);
            load();
          }}
        />
      )}
    </section>
  );
}

/** `POST /shifts/import` with the file's text as it is. */
async function fetchCsv(text: string): Promise<RosterChange> {
  return api<RosterChange>('POST', '/shifts/import', new Blob([text], { type: 'text/csv' }));
}

/** One doctor's week: a track of 7 days with his shifts on it. */
function DoctorLine(props: {
  doctor: Doctor;
  shifts: Shift[];
  from: number;
  now: number;
  sectors: Sector[];
  onPick: (day: string, hour: number) => void;
  onOpen: (s: Shift) => void;
  onResize: (s: Shift, edge: 'start' | 'end', at: Date) => void;
}) {
  const track = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ id: number; edge: 'start' | 'end'; at: number } | null>(null);
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - props.from) / WEEK_MS) * 100));
  const timeAt = (clientX: number) => {
    const r = track.current!.getBoundingClientRect();
    const t = props.from + ((clientX - r.left) / r.width) * WEEK_MS;
    return Math.round(t / (SNAP_MIN * 60_000)) * SNAP_MIN * 60_000;
  };
  function pick(e: MouseEvent) {
    if ((e.target as HTMLElement).closest('.shift')) return;
    const t = timeAt(e.clientX);
    const p = parisParts(new Date(t));
    props.onPick(p.date, Math.floor(p.minutes / 60));
  }
  function grab(s: Shift, edge: 'start' | 'end') {
    return (e: PointerEvent) => {
      e.stopPropagation();
      e.preventDefault();
      const el = e.currentTarget as HTMLElement;
      el.setPointerCapture(e.pointerId);
      const start = edge === 'start' ? Date.parse(s.starts_at) : Date.parse(s.ends_at);
      setDrag({ id: s.id, edge, at: start });
    };
  }
  function move(e: PointerEvent) {
    if (drag) setDrag({ ...drag, at: timeAt(e.clientX) });
  }
  function release(s: Shift) {
    return (e: PointerEvent) => {
      e.stopPropagation();
      if (!drag || drag.id !== s.id) return;
      const original = drag.edge === 'start' ? Date.parse(s.starts_at) : Date.parse(s.ends_at);
      setDrag(null);
      if (drag.at !== original) props.onResize(s, drag.edge, new Date(drag.at));
    };
  }
  const nowPct = props.now >= props.from && props.now < props.from + WEEK_MS ? pct(props.now) : null;
  return (
    <div class="week-row" role="row" data-doctor={props.doctor.id}>
      <span class="who" role="rowheader">
        {props.doctor.name}
      </span>
      <div class="track" ref={track} onClick={pick} onPointerMove={move} title="Cliquer pour planifier une garde">
        {nowPct != null && <span class="now-line" style={{ left: `${nowPct}%` }} />}
        {props.shifts.map((s) => {
          let a = Date.parse(s.starts_at);
          let b = Date.parse(s.ends_at);
          if (drag?.id === s.id) {
            if (drag.edge === 'start') a = Math.min(drag.at, b - SNAP_MIN * 60_000);
            else b = Math.max(drag.at, a + SNAP_MIN * 60_000);
          }
          const sector = props.sectors.find((x) => x.id === s.sector_id);
          const running = a <= props.now && b > props.now;
          return (
            <button
              key={s.id}
              type="button"
              class={`shift${running ? ' running' : ''}`}
              data-shift={s.id}
              style={{ left: `${pct(a)}%`, width: `${Math.max(0.6, pct(b) - pct(a))}%` }}
              title={`${dateTime(new Date(a).toISOString())} → ${dateTime(new Date(b).toISOString())}${sector ? ` · ${sector.name}` : ''}`}
              onClick={(e) => {
                e.stopPropagation();
                props.onOpen(s);
              }}
            >
              <span class="grip start" onPointerDown={grab(s, 'start')} onPointerUp={release(s)} aria-hidden="true" />
              <span class="label">
                {clock(new Date(a).toISOString())}–{clock(new Date(b).toISOString())}
                {sector && <em> {sector.name}</em>}
              </span>
              <span class="grip end" onPointerDown={grab(s, 'end')} onPointerUp={release(s)} aria-hidden="true" />
            </button>
          );
        })}
      </div>
    </div>
  );
}

function ShiftForm(props: { draft: Draft; doctors: Doctor[]; sectors: Sector[]; onClose: () => void; onSaved: (msg: string) => void }) {
  const [f, setF] = useState<Draft>(props.draft);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setF(props.draft), [props.draft]);
  const set = (k: keyof Draft) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const doctor = props.doctors.find((d) => String(d.id) === f.doctor_id);

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      doctor_id: Number(f.doctor_id),
      starts_at: parisToUtc(f.start_day, f.start_time),
      ends_at: parisToUtc(f.end_day, f.end_time),
      sector_id: f.sector_id ? Number(f.sector_id) : null,
    };
    try {
      if (f.id == null) await post('/shifts', body);
      else await put(`/shifts/${f.id}`, body);
      props.onSaved(`Garde de ${doctor?.name ?? ''} enregistrée : ${dateTime(body.starts_at)} → ${dateTime(body.ends_at)}`);
    } catch (err) {
      setError(toFormError(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (f.id == null || !confirm('Supprimer cette garde ?')) return;
    try {
      await del(`/shifts/${f.id}`);
      props.onSaved(`Garde de ${doctor?.name ?? ''} supprimée`);
    } catch (err) {
      setError(toFormError(err));
    }
  }

  return (
    <form class="form shift-form" onSubmit={save} aria-label={f.id == null ? 'Nouvelle garde' : 'Modifier la garde'}>
      <h3>{f.id == null ? 'Nouvelle garde' : 'Modifier la garde'}</h3>
      <div class="row">
        <Field label="Médecin" name="doctor_id" error={error}>
          <select value={f.doctor_id} onChange={set('doctor_id')}>
            {props.doctors.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Début" name="starts_at" error={error}>
          <span class="pair">
            <input type="date" value={f.start_day} onInput={set('start_day')} aria-label="Jour de début" required />
            <input type="time" value={f.start_time} onInput={set('start_time')} aria-label="Heure de début" step={1800} required />
          </span>
        </Field>
        <Field label="Fin" name="ends_at" error={error}>
          <span class="pair">
            <input type="date" value={f.end_day} onInput={set('end_day')} aria-label="Jour de fin" required />
            <input type="time" value={f.end_time} onInput={set('end_time')} aria-label="Heure de fin" step={1800} required />
          </span>
        </Field>
        <Field label="Secteur" name="sector_id" error={error}>
          <select value={f.sector_id} onChange={set('sector_id')}>
            <option value="">Tous les secteurs</option>
            {props.sectors.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <FormMessage error={error} shown={['doctor_id', 'starts_at', 'ends_at', 'sector_id']} />
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Enregistrer la garde
        </button>
        {f.id != null && (
          <button type="button" class="ghost" onClick={remove}>
            Supprimer
          </button>
        )}
        <button type="button" class="ghost" onClick={props.onClose}>
          Fermer
        </button>
      </div>
    </form>
  );
}
