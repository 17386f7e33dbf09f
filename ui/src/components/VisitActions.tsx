// What a dispatcher does to a visit after intake, in the queue itself: re-triage it (urgency,
// motive, notes, address), give it to another doctor in one step, cancel it with a reason.

import { useEffect, useState } from 'preact/hooks';
import { get, patch, post } from '../api';
import { CANCEL_REASONS } from '../format';
import type { AddressHit, Doctor, Visit } from '../types';
import { Field, FormMessage, toFormError, type FormError } from './form';

/** Re-triage: only what changed is sent, with the version seen (a change made meanwhile wins). */
export function EditVisit(props: { visit: Visit; onDone: (msg: string | null) => void }) {
  const v = props.visit;
  const [f, setF] = useState({
    urgency: String(v.urgency),
    motive: v.motive,
    notes: v.notes ?? '',
    line: v.address.line,
    postcode: v.address.postcode ?? '',
    city: v.address.city,
    details: v.address.details ?? '',
  });
  const [pos, setPos] = useState<{ lat: number | null; lon: number | null }>({ lat: v.address.lat ?? null, lon: v.address.lon ?? null });
  const [hits, setHits] = useState<AddressHit[]>([]);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const addressChanged = f.line !== v.address.line || f.city !== v.address.city || f.postcode !== (v.address.postcode ?? '') || f.details !== (v.address.details ?? '');

  useEffect(() => {
    if (f.line === v.address.line && f.city === v.address.city) return setHits([]);
    const q = `${f.line} ${f.city}`.trim();
    if (q.length < 4) return setHits([]);
    const t = setTimeout(() => {
      get<{ hits: AddressHit[] }>(`/addresses?limit=5&q=${encodeURIComponent(q)}`).then((r) => setHits(r.hits)).catch(() => setHits([]));
    }, 200);
    return () => clearTimeout(t);
  }, [f.line, f.city]);

  async function save(e: Event) {
    e.preventDefault();
    const body: Record<string, unknown> = { version: v.version };
    if (Number(f.urgency) !== v.urgency) body.urgency = Number(f.urgency);
    if (f.motive.trim() !== v.motive) body.motive = f.motive;
    if (f.notes !== (v.notes ?? '')) body.notes = f.notes;
    if (addressChanged) body.address = { line: f.line, postcode: f.postcode || null, city: f.city, details: f.details || null, lat: pos.lat, lon: pos.lon };
    if (Object.keys(body).length === 1) return props.onDone(null);
    setBusy(true);
    try {
      await patch(`/visits/${v.id}`, body);
      props.onDone('Appel modifié');
    } catch (err) {
      setError(toFormError(err));
    } finally {
      setBusy(false);
    }
  }

  function choose(h: AddressHit) {
    const line = h.housenumber ? `${h.housenumber} ${h.street}` : h.street;
    setF({ ...f, line, postcode: h.postcode, city: h.city });
    setPos({ lat: h.lat, lon: h.lon });
    setHits([]);
  }

  return (
    <form class="form edit-visit" onSubmit={save} aria-label="Modifier l'appel" onKeyDown={(e) => e.key === 'Escape' && props.onDone(null)}>
      <div class="row">
        <Field label="Urgence" name="urgency" error={error}>
          <div class="segmented" role="radiogroup">
            {['1', '2', '3'].map((u) => (
              <label key={u} class={f.urgency === u ? `on p${u}` : ''}>
                <input type="radio" name={`urgency-${v.id}`} value={u} checked={f.urgency === u} onChange={set('urgency')} />P{u}
              </label>
            ))}
          </div>
        </Field>
        <Field label="Motif" name="motive" error={error} wide>
          <input value={f.motive} onInput={set('motive')} />
        </Field>
      </div>
      <div class="row">
        <Field label="Adresse" name="address.line" error={error} wide>
          <input
            value={f.line}
            onInput={(e) => {
              set('line')(e);
              setPos({ lat: null, lon: null });
            }}
          />
        </Field>
        <Field label="Commune" name="address.city" error={error}>
          <input value={f.city} onInput={set('city')} />
        </Field>
        <Field label="Accès" name="address.details" error={error}>
          <input value={f.details} onInput={set('details')} />
        </Field>
      </div>
      {hits.length > 0 && (
        <ul class="matches" aria-label="Adresses trouvées">
          {hits.map((h) => (
            <li key={`${h.label}-${h.lat}`}>
              <button type="button" class="ghost small" onClick={() => choose(h)}>
                {h.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {addressChanged && pos.lat == null && <p class="warn-text small">Adresse sans position : choisissez-la dans la liste pour que la carte et les suggestions la trouvent.</p>}
      <Field label="Notes" name="notes" error={error} wide>
        <textarea value={f.notes} onInput={set('notes')} rows={2} />
      </Field>
      <FormMessage error={error} shown={['urgency', 'motive', 'notes', 'address.line', 'address.city', 'address.details']} />
      <div class="row">
        <button type="submit" class="primary small" disabled={busy}>
          Enregistrer
        </button>
        <button type="button" class="ghost small" onClick={() => props.onDone(null)}>
          Fermer
        </button>
      </div>
    </form>
  );
}

/** Cancels with a reason: the usual ones one click, or typed. */
export function CancelVisit(props: { visit: Visit; onDone: (msg: string | null) => void }) {
  const [other, setOther] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function cancel(reason: string) {
    if (!reason.trim()) return setError('Dites pourquoi la visite est annulée.');
    try {
      await post(`/visits/${props.visit.id}/cancel`, { reason: reason.trim() });
      props.onDone(`Visite annulée : ${reason.trim()}`);
    } catch (e) {
      setError(toFormError(e).message);
    }
  }
  return (
    <div class="cancel-visit" role="group" aria-label="Annuler la visite">
      <span class="muted small">Annuler, pourquoi ?</span>
      {CANCEL_REASONS.map((r) => (
        <button key={r} type="button" class="ghost small" onClick={() => cancel(r)}>
          {r}
        </button>
      ))}
      <form class="other" onSubmit={(e) => { e.preventDefault(); cancel(other); }}>
        <input value={other} onInput={(e) => setOther((e.target as HTMLInputElement).value)} placeholder="Autre raison…" aria-label="Autre raison" maxLength={1000} />
        <button type="submit" class="danger small">
          Annuler la visite
        </button>
      </form>
      <button type="button" class="ghost small" onClick={() => props.onDone(null)}>
        Garder la visite
      </button>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

/** Gives an assigned (or en route) visit to another doctor in one step. */
export function Reassign(props: { visit: Visit; doctors: Doctor[]; act: (p: string, b: object, done: string) => void }) {
  const others = props.doctors.filter((d) => d.id !== props.visit.doctor?.id && d.status !== 'off_duty');
  if (others.length === 0) return null;
  return (
    <select
      class="small reassign"
      aria-label="Réattribuer à un autre médecin"
      value=""
      onChange={(e) => {
        const id = Number((e.target as HTMLSelectElement).value);
        const d = others.find((x) => x.id === id);
        if (d) props.act(`/visits/${props.visit.id}/reassign`, { doctor_id: id }, `Réattribuée à ${d.name}`);
      }}
    >
      <option value="">Réattribuer…</option>
      {others.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name} ({d.queue} en cours)
        </option>
      ))}
    </select>
  );
}
