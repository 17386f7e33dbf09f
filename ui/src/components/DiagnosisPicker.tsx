// ICD-10 (CIM-10) diagnoses: type a few letters of the label or the start of a code, tap a hit;
// the chosen ones are chips that a tap on × removes.

import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api';
import type { Diagnosis } from '../report';

export function DiagnosisPicker(props: { value: Diagnosis[]; onChange: (d: Diagnosis[]) => void; disabled?: boolean; error?: string | null }) {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<Diagnosis[]>([]);
  const [searching, setSearching] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const seq = useRef(0);
  const list = useRef<HTMLUListElement>(null);
  // The hits show under the field: bring them into view (above the phone's action bar).
  useEffect(() => {
    if (hits.length) list.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [hits]);

  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setHits([]);
      setFailed(null);
      return;
    }
    const n = ++seq.current;
    setSearching(true);
    const t = setTimeout(() => {
      get<Diagnosis[]>(`/icd10?q=${encodeURIComponent(text)}&limit=12`)
        .then((h) => {
          if (n !== seq.current) return;
          setHits(h);
          setFailed(null);
        })
        .catch((e) => n === seq.current && setFailed(e.message))
        .finally(() => n === seq.current && setSearching(false));
    }, 200);
    return () => clearTimeout(t);
  }, [q]);

  const chosen = new Set(props.value.map((d) => d.code));
  function add(d: Diagnosis) {
    if (!chosen.has(d.code)) props.onChange([...props.value, { code: d.code, label: d.label }]);
    setQ('');
    setHits([]);
  }

  return (
    <div class={`dx-picker${props.error ? ' has-error' : ''}`} data-field="diagnoses">
      {props.value.length > 0 && (
        <ul class="dx-chips" aria-label="Diagnostics retenus">
          {props.value.map((d) => (
            <li key={d.code} class="dx-chip">
              <b>{d.code}</b> {d.label}
              {!props.disabled && (
                <button type="button" class="ghost" aria-label={`Retirer ${d.code}`} onClick={() => props.onChange(props.value.filter((x) => x.code !== d.code))}>
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!props.disabled && (
        <>
          <input
            type="search"
            aria-label="Rechercher un diagnostic (CIM-10)"
            placeholder="Chercher : mots ou code (ex. pneumo, I48)"
            value={q}
            enterkeyhint="search"
            autocomplete="off"
            onInput={(e) => setQ((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                if (hits[0]) add(hits[0]);
              }
            }}
          />
          {hits.length > 0 && (
            <ul class="dx-hits" ref={list} aria-label="Codes CIM-10 trouvés">
              {hits.map((h) => (
                <li key={h.code}>
                  <button type="button" disabled={chosen.has(h.code)} onClick={() => add(h)}>
                    <b>{h.code}</b> {h.label}
                  </button>
                </li>
              ))}
            </ul>
          )}
          {q.trim().length >= 2 && !searching && hits.length === 0 && !failed && <p class="muted small">Aucun code trouvé.</p>}
          {failed && <p class="error small">{failed}</p>}
        </>
      )}
      {props.error && (
        <small class="error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}
