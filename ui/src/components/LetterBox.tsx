// The letter to the treating physician after validation: its status, live (queued → sent), a
// retry for a failed one, and an MSSanté address for a held one.

import { useState } from 'preact/hooks';
import { ApiError, apiUrl, post, put } from '../api';
import { letterLabel, reportErrorMessage, type LetterView } from '../report';

export function LetterBox(props: { visitId: number; letter: LetterView; onChange: (l: LetterView) => void }) {
  const l = props.letter;
  const label = letterLabel(l);
  const [name, setName] = useState(l.recipient_name ?? '');
  const [mss, setMss] = useState(l.recipient_mssante ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function act(f: () => Promise<LetterView>) {
    setBusy(true);
    setError(null);
    try {
      props.onChange(await f());
    } catch (e) {
      setError(e instanceof ApiError ? reportErrorMessage(e.field, e.detail, e.message) : 'Erreur inattendue.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class={`letter tone-${label.tone}`} data-testid="letter" data-status={l.status} aria-live="polite">
      <h3>Lettre au médecin traitant</h3>
      <p class="letter-status">
        <span class="dot" /> {label.text}
      </p>
      {label.detail && <p class="muted small">{label.detail}</p>}
      <div class="actions">
        {label.retry && (
          <button type="button" class="primary" disabled={busy} onClick={() => act(() => post<LetterView>(`/visits/${props.visitId}/letter/retry`))}>
            Réessayer
          </button>
        )}
        {l.status !== 'held' && (
          <a class="button ghost" href={apiUrl(`/visits/${props.visitId}/letter/pdf`)} target="_blank" rel="noopener">
            Lettre (PDF)
          </a>
        )}
      </div>
      {label.needsAddress && (
        <form
          class="form recipient"
          aria-label="Destinataire de la lettre"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => put<LetterView>(`/visits/${props.visitId}/letter/recipient`, { name: name.trim(), mssante: mss.trim() || null, rpps: l.recipient_rpps }));
          }}
        >
          <label class="field">
            <span>Médecin traitant</span>
            <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="Dr Prénom Nom" />
          </label>
          <label class="field">
            <span>Son adresse MSSanté</span>
            <input type="email" inputMode="email" value={mss} onInput={(e) => setMss((e.target as HTMLInputElement).value)} placeholder="nom@medecin.mssante.fr" />
          </label>
          <button type="submit" class="primary" disabled={busy || !name.trim() || !mss.trim()}>
            Envoyer à cette adresse
          </button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
