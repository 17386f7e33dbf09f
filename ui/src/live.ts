// Live state: the lists a screen shows, kept in step with the hub's event stream. The browser's
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed; after a
// reconnection the screen reloads its lists all the same.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get, openEventStream } from './api';
import { upsertBooking } from './nurse';
import type { Doctor, HubEvent, NurseBooking, Visit } from './types';

export const EVENT_KINDS = [
  'visit.created',
  'visit.assigned',
  'visit.unassigned',
  'visit.status',
  'visit.withdrawn',
  'visit.proposed',
  'visit.seen',
  'visit.updated',
  'dispatch.mode',
  'doctor.status',
  'doctor.position',
  'report.updated',
  'ecg.added',
  'letter.updated',
  'nurse_booking.updated',
  'nurse_offer.updated',
  'shift.changed',
];

/** Applies an event to a list of visits (returns the same array when nothing changed). */
export function applyToVisits(visits: Visit[], e: HubEvent): Visit[] {
  // Taken from a doctor: gone from his round. A board that already has the visit as given to
  // someone else (or back in the queue) keeps it: the event that said so came first.
  if (e.kind === 'visit.withdrawn') {
    const from = e.data.doctor_id;
    return visits.filter((v) => !(v.id === e.data.id && (from == null || v.doctor?.id === from)));
  }
  if (!e.kind.startsWith('visit.')) return visits;
  const v = e.data as Visit;
  const i = visits.findIndex((x) => x.id === v.id);
  if (i < 0) return [...visits, v];
  if (visits[i].version > v.version) return visits; // an older snapshot
  const copy = visits.slice();
  copy[i] = v;
  return copy;
}

/** Applies an event to the doctors' list. */
export function applyToDoctors(doctors: Doctor[], e: HubEvent): Doctor[] {
  const id = e.data?.doctor_id;
  if (e.kind === 'doctor.status') {
    return doctors.map((d) => (d.id === id ? { ...d, status: e.data.status, status_at: e.data.status_at } : d));
  }
  if (e.kind === 'doctor.position') {
    return doctors.map((d) =>
      d.id === id ? { ...d, position: e.data.position ?? null, sharing_paused_at: e.data.sharing_paused_at ?? null } : d,
    );
  }
  if (e.kind.startsWith('visit.')) {
    // Queues change with assignments; the exact count comes with the next reload.
    return doctors;
  }
  return doctors;
}

/**
 * Applies an event to a list of nurse bookings (`nurse_booking.updated` carries the whole
 * booking). `keep` says which bookings the list holds (e.g. one visit's); same array when nothing
 * changed.
 */
export function applyToBookings(list: NurseBooking[], e: HubEvent, keep: (b: NurseBooking) => boolean = () => true): NurseBooking[] {
  if (e.kind !== 'nurse_booking.updated' || typeof e.data?.id !== 'number') return list;
  const b = e.data as NurseBooking;
  if (!keep(b) && !list.some((x) => x.id === b.id)) return list;
  return upsertBooking(list, b);
}

/** Whether an event asks the partner nurse's screen to ask for its offers again (it carries no patient data). */
/** The auto-dispatch mode another dispatcher switched to, if `e` says so. */
export function dispatchModeOf(e: HubEvent): string | null {
  return e.kind === 'dispatch.mode' && typeof e.data?.mode === 'string' ? e.data.mode : null;
}

export function offersChanged(e: HubEvent): boolean {
  return e.kind === 'nurse_offer.updated' || e.kind === 'link.reopened';
}

export type Link = 'connecting' | 'live' | 'lost';

/**
 * Screens nested in a live board (e.g. the report screen) hear the board's stream too, rather
 * than opening their own connection. After a reconnection they get `{kind: 'link.reopened'}`.
 */
const extraListeners = new Set<(e: HubEvent) => void>();

export function useHubEvent(f: (e: HubEvent) => void) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    const l = (e: HubEvent) => ref.current(e);
    extraListeners.add(l);
    return () => {
      extraListeners.delete(l);
    };
  }, []);
}

function tellOthers(e: HubEvent) {
  for (const l of extraListeners) {
    try {
      l(e);
    } catch {
      /* one screen's trouble does not stop the others */
    }
  }
}

/**
 * Subscribes to the event stream while mounted. `onEvent` gets each event; `onReconnect` is
 * called when the stream is (re)opened, to reload lists.
 */
export function useEvents(onEvent: (e: HubEvent) => void, onReconnect: () => void): Link {
  const [link, setLink] = useState<Link>('connecting');
  const handlers = useRef({ onEvent, onReconnect });
  handlers.current = { onEvent, onReconnect };
  useEffect(() => {
    const source = openEventStream();
    let lost = false;
    source.onopen = () => {
      setLink('live');
      if (lost) {
        handlers.current.onReconnect();
        tellOthers({ id: 0, kind: 'link.reopened', data: null });
      }
      lost = false;
    };
    source.onerror = () => {
      lost = true;
      setLink('lost');
    };
    const listener = (m: MessageEvent) => {
      try {
        const e = { id: Number(m.lastEventId), kind: m.type, data: JSON.parse(m.data) };
        handlers.current.onEvent(e);
        tellOthers(e);
      } catch {
        /* a malformed event is skipped */
      }
    };
    for (const k of EVENT_KINDS) source.addEventListener(k, listener as EventListener);
    return () => source.close();
  }, []);
  return link;
}

/** Re-renders every `ms` (live timers). */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * The visits at `visitsPath` and the doctors, loaded once, kept live from the event stream and
 * reloaded after a reconnection.
 */
export function useLiveBoard(visitsPath: string) {
  const [visits, setVisits] = useState<Visit[]>([]);
  const [doctors, setDoctors] = useState<Doctor[]>([]);
  const reload = useCallback(async () => {
    const [v, d] = await Promise.all([get<Visit[]>(visitsPath), get<Doctor[]>('/doctors')]);
    setVisits(v);
    setDoctors(d);
  }, [visitsPath]);
  useEffect(() => {
    reload().catch(() => {});
  }, [reload]);
  const link = useEvents(
    (e) => {
      setVisits((vs) => applyToVisits(vs, e));
      setDoctors((ds) => applyToDoctors(ds, e));
    },
    () => reload().catch(() => {}),
  );
  return { visits, setVisits, doctors, setDoctors, link, reload };
}

/**
 * Nurse bookings at `path` (a visit's, or the active ones), loaded once, kept live from the
 * stream of the board this screen is in (`useHubEvent`) and reloaded after a reconnection. `keep`
 * says which bookings an event may add.
 */
export function useLiveBookings(path: string | null, keep: (b: NurseBooking) => boolean = () => true) {
  const [bookings, setBookings] = useState<NurseBooking[]>([]);
  const asked = useRef(0);
  /** The bookings events brought while the latest question was out: its answer keeps them. */
  const heard = useRef(new Set<number>());
  const keepRef = useRef(keep);
  keepRef.current = keep;
  const reload = useCallback(async () => {
    if (!path) return;
    const mine = ++asked.current;
    const since = (heard.current = new Set());
    const list = await get<NurseBooking[]>(path);
    if (mine !== asked.current) return; // a later question's answer wins
    setBookings((old) => list.reduce((acc, b) => upsertBooking(acc, b), old.filter((b) => since.has(b.id) || list.some((x) => x.id === b.id))));
  }, [path]);
  useEffect(() => {
    setBookings([]);
    reload().catch(() => {});
  }, [reload]);
  useHubEvent((e) => {
    if (e.kind === 'link.reopened') reload().catch(() => {});
    else if (e.kind === 'nurse_booking.updated') {
      if (typeof e.data?.id === 'number') heard.current.add(e.data.id);
      setBookings((list) => applyToBookings(list, e, keepRef.current));
    }
  });
  /** Takes in a booking from an answer of the hub (book, cancel, answer a proposal). */
  const put = useCallback((b: NurseBooking) => {
    heard.current.add(b.id);
    setBookings((list) => upsertBooking(list, b));
  }, []);
  return { bookings, put, reload };
}
