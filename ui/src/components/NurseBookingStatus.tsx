// A partner nurse's booking, live: its status in French (sent, waiting, accepted by whom and when,
// a time proposed to answer, the networks tried), the doctor's answers to a proposed time, and
// the cancellation of an active booking. The board shows only a compact badge.

import { useState } from 'preact/hooks';
import { answerNurseProposal, cancelNurseBooking } from '../api';
import { bookingBadge, bookingDetails, bookingLabel } from '../nurse';
import type { NurseBooking } from '../types';
import { toFormError } from './form';

export function NurseBookingStatus(props: { booking: NurseBooking; onChange: (b: NurseBooking) => void; canAct: boolean }) {
  const b = props.booking;
  const label = bookingLabel(b);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(f: () => Promise<NurseBooking>) {
    setBusy(true);
    setError(null);
    try {
      props.onChange(await f());
    } catch (e) {
      setError(toFormError(e).message);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <section
      class={`nurse-booking tone-${label.tone}`}
      data-testid="nurse-booking"
      data-booking={b.id}
      data-status={b.status}
      data-delivery={b.delivery ?? ''}
      aria-live="polite"
    >
      <h3>Infirmière — {b.act_label}</h3>
      <p class="nb-status">
        <span class="dot" /> {label.text}
      </p>
      {b.status === 'requested' && b.last_error && (
        <p class="muted small">
          Dernier essai : {b.last_error}
          {b.attempts > 1 ? ` (${b.attempts} essais)` : ''}
        </p>
      )}
      <ul class="nb-details muted small">
        {bookingDetails(b).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
      {props.canAct && (label.answer || label.cancel) && (
        <div class="actions">
          {label.answer && (
            <>
              <button type="button" class="primary" disabled={busy} onClick={() => act(() => answerNurseProposal(b.id, true))}>
                Accepter
              </button>
              <button type="button" class="ghost" disabled={busy} onClick={() => act(() => answerNurseProposal(b.id, false))}>
                Refuser
              </button>
            </>
          )}
          {label.cancel &&
            (confirming ? (
              <button type="button" class="danger" disabled={busy} onClick={() => act(() => cancelNurseBooking(b.id))} onBlur={() => setConfirming(false)}>
                Confirmer l'annulation
              </button>
            ) : (
              <button type="button" class="ghost" disabled={busy} onClick={() => setConfirming(true)}>
                Annuler
              </button>
            ))}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The board's badge: « 🩺 Infirmière : acceptée 11:52 », the full status on hover. */
export function NurseBookingBadge(props: { booking: NurseBooking }) {
  const badge = bookingBadge(props.booking);
  return (
    <span class={`nurse-badge tone-${badge.tone}`} title={badge.title} data-testid="nurse-badge" data-status={props.booking.status}>
      {badge.text}
    </span>
  );
}
