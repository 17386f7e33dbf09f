import { describe, expect, it } from 'vitest';
import { base64UrlBytes } from './push';

describe('Web Push', () => {
  it('reads the hub key as base64url, without padding', () => {
    // The generator point of P-256, as the hub writes a public key: 65 bytes, 0x04 first.
    const g = base64UrlBytes('BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU');
    expect(g.length).toBe(65);
    expect(g[0]).toBe(4);
    expect(g[1]).toBe(0x6b);
    expect(g[64]).toBe(0xf5);
    expect(Array.from(base64UrlBytes('_-8'))).toEqual([0xff, 0xef]);
  });
});
