// Distances for ranking doctors by proximity on the board (great circle; road times come later).

import type { Doctor, Visit } from './types';

export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const R = 6371.0088;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(Math.min(1, h)));
}

export interface Candidate {
  doctor: Doctor;
  km: number | null;
  /** Rough minutes before he could be there: drive (30 km/h, detour 1.35) after his queue (30 min a visit). */
  eta: number | null;
}

/** Doctors who can take `visit`, soonest there first; off-duty doctors are left out. */
export function candidates(visit: Visit, doctors: Doctor[]): Candidate[] {
  const at = visit.address.lat != null && visit.address.lon != null ? { lat: visit.address.lat, lon: visit.address.lon } : null;
  return doctors
    .filter((d) => d.status !== 'off_duty')
    .map((d) => {
      const dist = at && d.position ? haversineKm(at, d.position) : null;
      const eta = dist == null ? null : Math.round((dist * 1.35 * 60) / 30 + d.queue * 30);
      return { doctor: d, km: dist, eta };
    })
    .sort((a, b) => (a.eta ?? 1e9) - (b.eta ?? 1e9) || a.doctor.queue - b.doctor.queue);
}

export function km(x: number | null): string {
  return x == null ? '? km' : `${x.toFixed(1).replace('.', ',')} km`;
}
