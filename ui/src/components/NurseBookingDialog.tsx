// Booking a partner nurse from the bedside, on a phone: the act in one tap, the window preset
// (within the hour by default), optional notes, and « Envoyer la demande ». Patient, address and
// prescriber are the visit's (shown, not typed). The dialog says which networks the request will
// be offered to, or that none covers it. One Idempotency-Key per opening: a double tap or a
// resubmission after a lost answer never books twice.

import { useEffect, useRef, useState } from 'preact/hooks';
import { bookNurse, newIdempotencyKey, nurseActs, suitableNetworks } from '../api';
import { age, clock, patientName } from '../format';
import { useTick } from '../live';
import { WINDOW_PRESETS, windowMinutes, type WindowPreset } from '../nurse';
import type { Me, Named, NurseAct, NurseBooking, Visit } from '../types';
import { Field, FormMessage, toFormError, type FormError } from './form';
import { NurseBookingStatus } from './NurseBookingStatus';

/** The acts change rarely: asked once per page. */
let actsOnce: Promise<NurseAct[]> | null = null;
function loadActs(): Promise<NurseAct[]> {
  actsOnce ??= nurseActs().catch((e) => {
    actsOnce = null;
    throw e;
  });
  return actsOnce;
}

export function NurseBookingDialog(props: { visit: Visit; me: Me; callbackPhone?: string | null; onBooked: (b: NurseBooking) => void; onClose: () => void }) {
  const v = props.visit;
  // Made once per opening, sent again with every resubmission of this dialog.
  const [key] = useState(newIdempotencyKey);
  const [acts, setActs] = useState<NurseAct[] | null>(null);
  const [act, setAct] = useState<string | null>(null);
  const [preset, setPreset] = useState<WindowPreset>('hour');
  const [notes, setNotes] = useState('');
  const [phone, setPhone] = useState(props.callbackPhone ?? '');
  const [suitable, setSuitable] = useState<Named[] | null>(null);
  const [suitableError, setSuitableError] = useState<string | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const now = useTick(30000);

  useEffect(() => {
    loadActs()
      .then(setActs)
      .catch((e) => setError(toFormError(e)));
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    document.addEventListener('keydown', esc);
    box.current?.focus();
    return () => document.removeEventListener('keydown', esc);
  }, []);

  // Where it would go, asked again for each act (an older answer never overwrites a newer one).
  useEffect(() => {
    setSuitable(null);
    setSuitableError(null);
    if (!act) return;
    let current = true;
    suitableNetworks(v.id, act)
      .then((s) => current && setSuitable(s))
      .catch((e) => current && setSuitableError(toFormError(e).message));
    return () => {
      current = false;
    };
  }, [act, v.id]);

  async function submit(e: Event) {
    e.preventDefault();
    if (sending.current) return;
    if (!act) return setError({ field: 'act', message: 'Choisissez le soin.' });
    sending.current = true;
    setBusy(true);
    setError(null);
    try {
      const b = await bookNurse(
        v.id,
        { act, window_minutes: windowMinutes(preset), notes: notes.trim() || undefined, callback_phone: phone.trim() || undefined },
        key,
      );
      props.onBooked(b);
      props.onClose();
    } catch (err) {
      setError(toFormError(err));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  const a = age(v.patient.birth_date);
  const noneCovers = suitable !== null && suitable.length === 0;
  const isDoctor = props.me.role === 'doctor';
  return (
    <div class="sheet-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="sheet" role="dialog" aria-modal="true" aria-label="Demander une infirmière" tabIndex={-1} ref={box}>
        <header class="sheet-head">
          <h2>Demander une infirmière</h2>
          <button type="button" class="ghost close" onClick={props.onClose} aria-label="Fermer">
            ✕
          </button>
        </header>
        <form class="form nurse-form" onSubmit={submit} aria-label="Demande d'infirmière">
          <dl class="summary" aria-label="Pour">
            <div>
              <dt>Patient</dt>
              <dd>
                <strong>{patientName(v.patient)}</strong>
                {a != null ? `, ${a} ans` : ''}
              </dd>
            </div>
            <div>
              <dt>Adresse</dt>
              <dd>
                {v.address.line}, {v.address.postcode} {v.address.city}
                {v.address.details ? ` · ${v.address.details}` : ''}
              </dd>
            </div>
            <div>
              <dt>Prescripteur</dt>
              <dd>
                {v.doctor?.name ?? '—'}
                {!isDoctor && <span class="muted"> (demande faite en son nom)</span>}
              </dd>
            </div>
          </dl>

          <div class={`field${error?.field === 'act' ? ' has-error' : ''}`} data-field="act">
            <span id="nurse-act-label">Soin</span>
            {acts == null ? (
              <p class="muted">Chargement des soins…</p>
            ) : (
              <div class="acts" role="radiogroup" aria-labelledby="nurse-act-label">
                {acts.map((x) => (
                  <button
                    type="button"
                    key={x.code}
                    role="radio"
                    aria-checked={act === x.code}
                    class={act === x.code ? 'on' : ''}
                    onClick={() => {
                      setAct(x.code);
                      if (error?.field === 'act') setError(null);
                    }}
                  >
                    {x.label}
                  </button>
                ))}
              </div>
            )}
            {error?.field === 'act' && (
              <small class="error" role="alert">
                {error.message}
              </small>
            )}
          </div>

          <div class={`field${error?.field === 'window_minutes' ? ' has-error' : ''}`} data-field="window_minutes">
            <span id="nurse-window-label">Quand</span>
            <div class="windows" role="radiogroup" aria-labelledby="nurse-window-label">
              {WINDOW_PRESETS.map((w) => (
                <button
                  type="button"
                  key={w.key}
                  role="radio"
                  aria-checked={preset === w.key}
                  class={preset === w.key ? 'on' : ''}
                  onClick={() => setPreset(w.key)}
                >
                  {w.label}
                  <small>avant {clock(new Date(now + windowMinutes(w.key, new Date(now)) * 60000).toISOString())}</small>
                </button>
              ))}
            </div>
            {error?.field === 'window_minutes' && (
              <small class="error" role="alert">
                {error.message}
              </small>
            )}
          </div>

          <Field label="Notes pour l'infirmière (facultatif)" name="notes" error={error}>
            <textarea rows={2} value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} placeholder="ex. sonde Ch 16, poche de recueil à domicile" />
          </Field>
          <Field label="Téléphone pour vous rappeler" name="callback_phone" error={error}>
            <input type="tel" inputMode="tel" value={phone} onInput={(e) => setPhone((e.target as HTMLInputElement).value)} autocomplete="tel" />
          </Field>

          <p class={`where${noneCovers ? ' none' : ''}`} data-testid="nurse-where" role="status">
            {!act
              ? 'Choisissez un soin pour voir à quel réseau la demande sera proposée.'
              : suitableError
                ? suitableError
                : suitable == null
                  ? 'Recherche des réseaux…'
                  : noneCovers
                    ? 'Aucun réseau infirmier partenaire ne couvre ce soin à cette adresse.'
                    : `Sera proposé à : ${suitable.map((s) => s.name).join(', puis ')}`}
          </p>

          <FormMessage error={error} shown={['act', 'window_minutes', 'notes', 'callback_phone']} />
          <div class="sheet-actions">
            <button type="submit" class="primary big" disabled={busy || noneCovers}>
              {busy ? 'Envoi…' : 'Envoyer la demande'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/**
 * A visit's nurse bookings with their live status, and the button that opens the dialog (the
 * report screen's section; the round's card lays them out itself).
 */
export function VisitNurse(props: { visit: Visit; me: Me; bookings: NurseBooking[]; onBooking: (b: NurseBooking) => void; callbackPhone?: string | null }) {
  const [open, setOpen] = useState(false);
  const mine = props.bookings.filter((b) => b.visit_id === props.visit.id);
  return (
    <section class="rsec nurse" data-field="nurse">
      <h3>Soins infirmiers</h3>
      {mine.map((b) => (
        <NurseBookingStatus key={b.id} booking={b} onChange={props.onBooking} canAct />
      ))}
      <button type="button" class="ghost nurse-open" onClick={() => setOpen(true)}>
        <span aria-hidden="true">🩺</span> Demander une infirmière
      </button>
      {open && (
        <NurseBookingDialog
          visit={props.visit}
          me={props.me}
          callbackPhone={props.callbackPhone}
          onBooked={props.onBooking}
          onClose={() => setOpen(false)}
        />
      )}
    </section>
  );
}
