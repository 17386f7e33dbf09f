import { describe, expect, it } from 'vitest';
import { candidates, haversineKm } from './geo';
import { applyToDoctors, applyToVisits, dispatchModeOf } from './live';
import type { Doctor, Visit } from './types';

const visit = (id: number, version: number, status: Visit['status'] = 'received'): Visit =>
  ({ id, version, status, urgency: 2, address: { line: 'x', postcode: null, city: 'G', lat: 45.19, lon: 5.72 } }) as Visit;
const doctor = (id: number, status: Doctor['status'], lat: number, queue = 0): Doctor =>
  ({ id, name: `Dr ${id}`, status, queue, position: { lat, lon: 5.72, at: '' } }) as Doctor;

describe('live state follows events', () => {
  it('adds, updates and withdraws visits; ignores stale snapshots', () => {
    let vs: Visit[] = [];
    vs = applyToVisits(vs, { id: 1, kind: 'visit.created', data: visit(7, 1) });
    expect(vs.map((v) => v.id)).toEqual([7]);
    vs = applyToVisits(vs, { id: 2, kind: 'visit.assigned', data: { ...visit(7, 2, 'assigned'), doctor: { id: 3, name: 'Dr 3' } } });
    expect(vs[0].status).toBe('assigned');
    expect(applyToVisits(vs, { id: 3, kind: 'visit.status', data: visit(7, 1, 'received') })).toBe(vs);
    vs = applyToVisits(vs, { id: 4, kind: 'visit.withdrawn', data: { id: 7, doctor_id: 3 } });
    expect(vs).toEqual([]);
  });
  it('keeps on the board a visit given to another doctor, and takes it off the first one\'s round', () => {
    const given = (doctor: number, version: number) => ({ ...visit(7, version, 'assigned'), doctor: { id: doctor, name: `Dr ${doctor}` } });
    // The board hears the new assignment, then the withdrawal from the first doctor.
    let board = applyToVisits([given(3, 2)], { id: 5, kind: 'visit.assigned', data: given(4, 3) });
    board = applyToVisits(board, { id: 6, kind: 'visit.withdrawn', data: { id: 7, doctor_id: 3 } });
    expect(board.map((v) => v.doctor?.id)).toEqual([4]);
    // The first doctor's round only hears the withdrawal.
    expect(applyToVisits([given(3, 2)], { id: 6, kind: 'visit.withdrawn', data: { id: 7, doctor_id: 3 } })).toEqual([]);
  });
  it('moves doctors and changes their status', () => {
    let ds = [doctor(1, 'available', 45.0)];
    ds = applyToDoctors(ds, { id: 1, kind: 'doctor.status', data: { doctor_id: 1, status: 'en_route', status_at: 't' } });
    expect(ds[0].status).toBe('en_route');
    const fix = { lat: 45.2, lon: 5.7, at: 't2', accuracy_m: 12, stale_at: 't3' };
    ds = applyToDoctors(ds, { id: 2, kind: 'doctor.position', data: { doctor_id: 1, position: fix, sharing_paused_at: null } });
    expect(ds[0].position).toEqual(fix);
    ds = applyToDoctors(ds, { id: 3, kind: 'doctor.position', data: { doctor_id: 1, position: fix, sharing_paused_at: 't4' } });
    expect(ds[0].sharing_paused_at).toBe('t4');
  });
});

describe('doctor suggestions', () => {
  it('measures great-circle distances', () => {
    expect(haversineKm({ lat: 45.19, lon: 5.72 }, { lat: 45.19, lon: 5.72 })).toBe(0);
    expect(haversineKm({ lat: 45.0, lon: 5.72 }, { lat: 46.0, lon: 5.72 })).toBeCloseTo(111.2, 0);
  });
  it('ranks by time to get there, queue included, and leaves off-duty doctors out', () => {
    const ds = [doctor(1, 'available', 45.3), doctor(2, 'off_duty', 45.19), doctor(3, 'available', 45.2), doctor(4, 'on_site', 45.191, 2)];
    expect(candidates(visit(1, 1), ds).map((c) => c.doctor.id)).toEqual([3, 1, 4]);
  });
});

describe('the auto-dispatch switch follows other dispatchers', () => {
  it('reads the mode from a dispatch.mode event only', () => {
    expect(dispatchModeOf({ id: 3, kind: 'dispatch.mode', data: { mode: 'apply' } })).toBe('apply');
    expect(dispatchModeOf({ id: 4, kind: 'visit.status', data: { mode: 'apply' } })).toBeNull();
    expect(dispatchModeOf({ id: 5, kind: 'dispatch.mode', data: null })).toBeNull();
  });
});
