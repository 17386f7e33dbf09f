import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// api.ts is the one place the UI calls the hub: the session token, the error wording and the
// offline behaviour live there, and nowhere else opens a request of its own.
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

describe('api.ts is the only caller of the hub', () => {
  it('no other module fetches, opens the event stream or names an API path', () => {
    const root = join(__dirname);
    const files = sources(root);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files
      // api-schema.ts is generated from the OpenAPI document: types only, no call.
      .filter((p) => !p.endsWith(join('src', 'api.ts')) && !p.endsWith(join('src', 'api-schema.ts')))
      .filter((p) => /\bfetch\(|new EventSource\(|XMLHttpRequest|sendBeacon|['"`]\/api\/v1/.test(readFileSync(p, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('no text becomes markup', () => {
  it('nothing writes HTML, and every map tooltip or popup is given an element, not a string', () => {
    const offenders: string[] = [];
    for (const p of sources(join(__dirname))) {
      if (p.endsWith('api-schema.ts')) continue;
      const text = readFileSync(p, 'utf8');
      if (/innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write/.test(text)) offenders.push(`${p}: writes HTML`);
      for (const m of text.matchAll(/\.(bindTooltip|bindPopup|setTooltipContent|setPopupContent|setContent)\(([^)]*)/g)) {
        if (!m[2].startsWith('asText(')) offenders.push(`${p}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('the bundle loads in any locale', () => {
  it('uPlot, which reads navigator.language into Intl as it loads, is never imported up front', () => {
    // A webview under LANG=C reports the language "C"; Intl refuses it and the whole UI would fail.
    const offenders = sources(join(__dirname)).filter((p) => /^import\s+(?!type\b)[^;]*from\s+['"]uplot['"]/m.test(readFileSync(p, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
