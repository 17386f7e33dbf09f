import { describe, expect, it } from 'vitest';
import { deviceOf } from './screens/Account';

describe('a session is named by its device, so that one recognises the phone left somewhere', () => {
  it('reads the usual browsers and systems', () => {
    expect(deviceOf('Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36')).toBe(
      'Chrome · Android',
    );
    expect(deviceOf('Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1')).toBe(
      'Safari · iPhone / iPad',
    );
    expect(deviceOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0')).toBe(
      'Edge · Windows',
    );
    expect(deviceOf('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox · Linux');
  });
  it('never shows nothing', () => {
    expect(deviceOf(null)).toBe('Appareil inconnu');
    expect(deviceOf('curl/8.5.0')).toBe('curl/8.5.0');
  });
});
