// Live state: the lists a screen shows, kept in step with the hub's event stream. The browser's
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed; after a
// reconnection the screen reloads its lists all the same.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api';
import type { Doctor, HubEvent, Visit } from './types';

export const EVENT_KINDS = [
  'visit.created',
  'visit.assigned',
  'visit.unassigned',
  'visit.status',
  'visit.withdrawn',
  'visit.proposed',
  'doctor.status',
  'doctor.position',
  'report.updated',
  'ecg.added',
  'letter.updated',
];

/** Applies an event to a list of visits (returns the same array when nothing changed). */
export function applyToVisits(visits: Visit[], e: HubEvent): Visit[] {
  if (e.kind === 'visit.withdrawn') return visits.filter((v) => v.id !== e.data.id);
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
    return doctors.map((d) => (d.id === id ? { ...d, position: { lat: e.data.lat, lon: e.data.lon, at: e.data.at } } : d));
  }
  if (e.kind.startsWith('visit.')) {
    // Queues change with assignments; the exact count comes with the next reload.
    return doctors;
  }
  return doctors;
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
    const source = new EventSource('/api/v1/events', { withCredentials: true });
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
