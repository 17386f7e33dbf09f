// The doctor hands a case over to the 15 (SAMU) himself, before or on his way to the patient:
// what the family said on the phone, a relative's call, a worse state than triaged. A reason is
// required (the 15 and the dispatcher read it); the usual ones are one tap.

import { useState } from 'preact/hooks';

export const REASONS_15 = ['Détresse vitale', 'Douleur thoracique typique', 'Trouble de conscience', 'Détresse respiratoire'];

export function HandTo15(props: { onSend: (reason: string) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [sending, setSending] = useState(false);
  if (!open)
    return (
      <button class="ghost to15" onClick={() => setOpen(true)} aria-label="Transférer au 15">
        → 15
      </button>
    );
  const text = reason.trim();
  async function send(e: Event) {
    e.preventDefault();
    if (!text) return;
    setSending(true);
    try {
      await props.onSend(text);
      setOpen(false);
    } finally {
      setSending(false);
    }
  }
  return (
    <form class="to15-form" onSubmit={send} aria-label="Transfert au 15">
      <p class="chips">
        {REASONS_15.map((r) => (
          <button type="button" key={r} class={reason === r ? 'on small' : 'ghost small'} onClick={() => setReason(r)}>
            {r}
          </button>
        ))}
      </p>
      <label>
        Motif du transfert
        <input value={reason} maxLength={1000} onInput={(e) => setReason((e.target as HTMLInputElement).value)} required />
      </label>
      <p class="buttons">
        <button type="submit" class="danger" disabled={!text || sending}>
          Transférer au 15
        </button>
        <button type="button" class="ghost" onClick={() => setOpen(false)}>
          Annuler
        </button>
      </p>
    </form>
  );
}
