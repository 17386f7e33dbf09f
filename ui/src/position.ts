// The doctor's phone shares its position with the hub while he is on duty (#15): the browser's
// Geolocation `watchPosition`, throttled so that a night on the road costs little battery and
// few requests: a fix is sent when 30 s passed or he moved 100 m, never more than one per 10 s.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, put } from './api';
import { haversineKm } from './geo';
import type { Doctor } from './types';

export interface Fix {
  lat: number;
  lon: number;
  /** Radius in metres, as the phone gives it. */
  accuracy: number;
  /** Milliseconds since the epoch, when the phone took it. */
  at: number;
}

/** Send at most one fix per this many ms. */
export const MIN_INTERVAL_MS = 10_000;
/** Send a fix at least this often while one comes. */
export const MAX_INTERVAL_MS = 30_000;
/** Or as soon as he moved this far (metres). */
export const MIN_MOVE_M = 100;

/** Should `fix` be sent, the last one sent being `last` (null: none yet)? */
export function shouldSend(last: Fix | null, fix: Fix): boolean {
  if (!last) return true;
  const elapsed = fix.at - last.at;
  if (elapsed < MIN_INTERVAL_MS) return false;
  if (elapsed >= MAX_INTERVAL_MS) return true;
  return haversineKm(last, fix) * 1000 >= MIN_MOVE_M;
}

export type Sharing =
  | { state: 'off' } // not on duty, or paused
  | { state: 'waiting' } // asked the phone, no fix yet
  | { state: 'denied' } // the phone refuses (permission, or no GPS)
  | { state: 'sharing'; last: Fix }
  | { state: 'unsent'; last: Fix }; // the last fix could not reach the hub (no signal)

/**
 * Shares the phone's position for `doctor` while `active`. Returns what the doctor is told.
 * `onSent` gets the doctor as the hub answers (his list stays in step).
 */
export function usePositionSharing(doctor: Doctor | undefined, active: boolean, onSent: (d: Doctor) => void): Sharing {
  const [sharing, setSharing] = useState<Sharing>({ state: 'off' });
  const last = useRef<Fix | null>(null);
  const id = doctor?.id;
  useEffect(() => {
    if (!active || id == null) {
      setSharing({ state: 'off' });
      return;
    }
    if (!('geolocation' in navigator)) {
      setSharing({ state: 'denied' });
      return;
    }
    setSharing({ state: 'waiting' });
    let sending = false;
    // A fix held back by the throttle is sent when its turn comes, if no newer one came.
    let held: Fix | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const consider = (fix: Fix) => {
      if (sending || !shouldSend(last.current, fix)) {
        held = fix;
        if (!timer) {
          const wait = last.current ? Math.max(0, last.current.at + MIN_INTERVAL_MS - fix.at) + 500 : 1000;
          timer = setTimeout(() => {
            timer = null;
            // Its turn: sent now, dated now (the phone is still there).
            if (held) consider({ ...held, at: Math.max(held.at, Date.now()) });
          }, wait);
        }
        return;
      }
      held = null;
      send(fix);
    };
    const send = (fix: Fix) => {
      sending = true;
      last.current = fix;
      put<Doctor>(`/doctors/${id}/position`, {
        lat: fix.lat,
        lon: fix.lon,
        accuracy_m: fix.accuracy > 0 ? Math.min(fix.accuracy, 100_000) : null,
        at: new Date(fix.at).toISOString(),
      })
        .then((d) => {
          onSent(d);
          setSharing({ state: 'sharing', last: fix });
        })
        .catch((e) => {
          // Paused meanwhile (another device of his): stop here; otherwise retry with the next fix.
          if (e instanceof ApiError && e.code === 'sharing_paused') setSharing({ state: 'off' });
          else {
            last.current = null;
            setSharing({ state: 'unsent', last: fix });
          }
        })
        .finally(() => {
          sending = false;
        });
    };
    const watch = navigator.geolocation.watchPosition(
      (p) => consider({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: p.timestamp || Date.now() }),
      (err) => {
        if (err.code === err.PERMISSION_DENIED || err.code === err.POSITION_UNAVAILABLE) setSharing({ state: 'denied' });
      },
      { enableHighAccuracy: true, maximumAge: 10_000, timeout: 60_000 },
    );
    return () => {
      navigator.geolocation.clearWatch(watch);
      if (timer) clearTimeout(timer);
    };
  }, [active, id]);
  return sharing;
}
