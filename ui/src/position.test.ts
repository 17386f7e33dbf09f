import { describe, expect, it } from 'vitest';
import { positionWords } from './format';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS, shouldSend, type Fix } from './position';

const at = (t: number, lat = 45.19, lon = 5.72): Fix => ({ lat, lon, accuracy: 10, at: t });

describe("the phone's position is sent sparingly", () => {
  it('sends the first fix, then at most one per 10 s', () => {
    expect(shouldSend(null, at(0))).toBe(true);
    // 500 m away but only 5 s later: waits.
    expect(shouldSend(at(0), at(5_000, 45.1945))).toBe(false);
    expect(shouldSend(at(0), at(MIN_INTERVAL_MS, 45.1945))).toBe(true);
  });
  it('sends after 100 m, or after 30 s when standing still', () => {
    expect(shouldSend(at(0), at(15_000, 45.1905))).toBe(false); // 55 m
    expect(shouldSend(at(0), at(15_000, 45.1912))).toBe(true); // 133 m
    expect(shouldSend(at(0), at(MAX_INTERVAL_MS - 1))).toBe(false);
    expect(shouldSend(at(0), at(MAX_INTERVAL_MS))).toBe(true);
  });
});

describe('the board words a position by its age', () => {
  const now = Date.parse('2026-12-03T02:14:00Z');
  const fix = (ageS: number, staleAfterS = 300) => ({
    at: new Date(now - ageS * 1000).toISOString(),
    stale_at: new Date(now - ageS * 1000 + staleAfterS * 1000).toISOString(),
  });
  it('fresh, old, paused, none', () => {
    expect(positionWords({ position: fix(40) }, now)).toEqual({ text: 'il y a 40 s', stale: false });
    expect(positionWords({ position: fix(12 * 60) }, now)).toEqual({ text: 'ancienne, il y a 12 min', stale: true });
    expect(positionWords({ position: fix(40), sharing_paused_at: '2026-12-03T02:13:00Z' }, now)).toEqual({
      text: 'partage suspendu (il y a 40 s)',
      stale: true,
    });
    expect(positionWords({ position: null }, now)).toEqual({ text: '—', stale: true });
  });
});
