// The partner nurse's seat, on her phone: the requests offered to her (act, commune, « avant
// HH:MM », the association asking), « J'accepte » in one tap (arrival in 30 minutes unless she
// says otherwise), another time proposed, or « Je ne peux pas ». A request another nurse took
// shows faded. Hers show the patient, the address (geo: link to navigate), the phones, the
// prescriber and the notes, and « Soin réalisé ». « Ma disponibilité » says whether she takes
// requests now. The list follows `nurse_offer.updated` (which carries no patient data: the list
// is asked for again).

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { acceptOffer, declineOffer, myCoverage, nurseOffers, offerDone, proposeOffer, setMyCoverage } from '../api';
import { toFormError } from '../components/form';
import { LinkBanner } from '../components/LinkBanner';
import { age, clock } from '../format';
import { offersChanged, useEvents, useTick } from '../live';
import { clockIn, offerAddress, offerLabel, offerSections, parisTimeToIso } from '../nurse';
import type { Me, NurseCoverage, NurseOffer } from '../types';

export function NurseInbox(_props: { me: Me }) {
  const [offers, setOffers] = useState<NurseOffer[] | null>(null);
  const [coverage, setCoverage] = useState<NurseCoverage | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dutyBusy, setDutyBusy] = useState(false);
  const asked = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const refetch = useCallback(async () => {
    const mine = ++asked.current;
    const list = await nurseOffers();
    if (mine === asked.current) setOffers(list); // an older answer never overwrites a newer one
  }, []);
  /** A burst of events asks once. */
  const soon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => refetch().catch(() => {}), 150);
  }, [refetch]);

  useEffect(() => {
    refetch().catch((e) => setNotice(toFormError(e).message));
    myCoverage()
      .then(setCoverage)
      .catch(() => {});
    return () => clearTimeout(timer.current);
  }, []);
  const link = useEvents((e) => offersChanged(e) && soon(), soon);
  const now = useTick(30000);

  async function toggleDuty() {
    if (!coverage) return;
    setDutyBusy(true);
    try {
      setCoverage(await setMyCoverage({ ...coverage, on_duty: !coverage.on_duty }));
      setNotice(null);
      soon();
    } catch (e) {
      setNotice(toFormError(e).message);
    } finally {
      setDutyBusy(false);
    }
  }

  /** Takes in the hub's answer for one offer, then asks for the list again (others may change). */
  function changed(o: NurseOffer) {
    setOffers((list) => (list ?? []).map((x) => (x.id === o.id ? o : x)));
    soon();
  }

  const { todo, mine, past } = offerSections(offers ?? []);
  const onDuty = coverage?.on_duty ?? null;
  return (
    <div class="inbox">
      <LinkBanner link={link} />
      <div class="me-status duty">
        <span>Ma disponibilité</span>
        <button
          type="button"
          role="switch"
          aria-checked={onDuty === true}
          aria-label="Ma disponibilité"
          class={onDuty ? 'on big-switch' : 'ghost big-switch'}
          disabled={coverage == null || dutyBusy}
          onClick={toggleDuty}
        >
          {onDuty == null ? '…' : onDuty ? 'Disponible' : 'Indisponible'}
        </button>
      </div>
      {notice && (
        <p class="error" role="alert">
          {notice}
        </p>
      )}
      {offers == null && !notice && <p class="loading">Chargement…</p>}

      <h2>
        Demandes à prendre <span class="count">{todo.length}</span>
      </h2>
      {offers != null && todo.length === 0 && (
        <p class="empty">{onDuty === false ? 'Vous êtes indisponible : aucune demande ne vous est proposée.' : 'Aucune demande pour le moment.'}</p>
      )}
      <ul class="cards offers" aria-label="Demandes à prendre">
        {todo.map((o) => (
          <OfferCard key={o.id} offer={o} now={now} onChange={changed} onGone={soon} />
        ))}
      </ul>

      {mine.length > 0 && (
        <>
          <h2>
            Mes soins <span class="count">{mine.length}</span>
          </h2>
          <ul class="cards offers" aria-label="Mes soins">
            {mine.map((o) => (
              <OfferCard key={o.id} offer={o} now={now} onChange={changed} onGone={soon} />
            ))}
          </ul>
        </>
      )}

      {past.length > 0 && (
        <>
          <h2>Récemment</h2>
          <ul class="cards offers" aria-label="Demandes récentes">
            {past.map((o) => (
              <OfferCard key={o.id} offer={o} now={now} onChange={changed} onGone={soon} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function OfferCard(props: { offer: NurseOffer; now: number; onChange: (o: NurseOffer) => void; onGone: () => void }) {
  const o = props.offer;
  const label = offerLabel(o);
  /** Her arrival time; null: the default, in 30 minutes. */
  const [eta, setEta] = useState<string | null>(null);
  const [proposing, setProposing] = useState(false);
  const [proposal, setProposal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(f: () => Promise<NurseOffer>) {
    setBusy(true);
    setError(null);
    try {
      props.onChange(await f());
      setProposing(false);
    } catch (e) {
      setError(toFormError(e).message);
      props.onGone(); // taken, cancelled meanwhile: the list says so
    } finally {
      setBusy(false);
    }
  }

  function accept() {
    let at: string | undefined;
    if (eta != null) {
      const iso = parisTimeToIso(eta);
      if (!iso) return setError("Heure d'arrivée : une heure comme 14:30.");
      at = iso;
    }
    act(() => acceptOffer(o.id, at));
  }

  function propose(e: Event) {
    e.preventDefault();
    const iso = parisTimeToIso(proposal ?? clockIn(60, new Date(props.now)));
    if (!iso) return setError('Horaire proposé : une heure comme 14:30.');
    act(() => proposeOffer(o.id, iso));
  }

  const address = offerAddress(o.patient?.address);
  const born = o.patient?.birth_date;
  const years = age(born ?? null);
  return (
    <li class={`card offer tone-${label.tone}${label.greyed ? ' greyed' : ''}`} data-offer={o.id} data-status={o.status} data-mine={o.mine ? 'true' : undefined}>
      <div class="line1">
        <strong class="act">{o.act_label}</strong>
      </div>
      <p class="where-when">
        <span>
          📍 {o.city}
          {o.postcode ? ` (${o.postcode})` : ''}
        </span>
        <span class="deadline">avant {clock(o.window_end)}</span>
      </p>
      <p class="muted small">Demandé par {o.client_name}</p>
      {!label.open && (
        <p class="offer-status" role="status">
          <span class="dot" /> {label.text}
        </p>
      )}

      {label.open && (
        <>
          <div class="accept-row">
            <button type="button" class="primary big" disabled={busy} onClick={accept}>
              J'accepte
            </button>
            <label class="eta">
              <span>arrivée vers</span>
              <input
                type="time"
                aria-label="Heure d'arrivée prévue"
                value={eta ?? clockIn(30, new Date(props.now))}
                onInput={(e) => setEta((e.target as HTMLInputElement).value || null)}
              />
            </label>
          </div>
          <div class="actions">
            <button type="button" class={proposing ? 'on' : 'ghost'} disabled={busy} onClick={() => setProposing(!proposing)}>
              Proposer un autre horaire
            </button>
            <button type="button" class="ghost" disabled={busy} onClick={() => act(() => declineOffer(o.id))}>
              Je ne peux pas
            </button>
          </div>
          {proposing && (
            <form class="propose" onSubmit={propose} aria-label="Proposer un autre horaire">
              <label class="field">
                <span>Je peux venir à</span>
                <input
                  type="time"
                  aria-label="Horaire proposé"
                  value={proposal ?? clockIn(60, new Date(props.now))}
                  onInput={(e) => setProposal((e.target as HTMLInputElement).value || null)}
                />
              </label>
              <button type="submit" class="primary" disabled={busy}>
                Proposer cet horaire
              </button>
            </form>
          )}
        </>
      )}

      {o.mine && o.patient && (o.status === 'accepted' || o.status === 'proposed' || o.status === 'done') && (
        <div class="patient-box" aria-label="Patient">
          <p>
            <strong>{o.patient.name}</strong>
            {born ? <span class="muted"> · né(e) le {born.split('-').reverse().join('/')}{years != null ? ` (${years} ans)` : ''}</span> : null}
          </p>
          {address && (
            <a class="address" href={address.geo}>
              ➜ {address.text}
            </a>
          )}
          {o.patient.phone && (
            <p>
              <a class="tel" href={`tel:${o.patient.phone.replace(/\s+/g, '')}`}>
                ☎ {o.patient.phone}
              </a>
            </p>
          )}
          {o.prescriber && (
            <p class="muted">
              Prescripteur : {o.prescriber.name}
              {o.prescriber.rpps ? ` · RPPS ${o.prescriber.rpps}` : ''}
              {o.prescriber.phone && (
                <>
                  {' · '}
                  <a class="tel" href={`tel:${o.prescriber.phone.replace(/\s+/g, '')}`}>
                    ☎ {o.prescriber.phone}
                  </a>
                </>
              )}
            </p>
          )}
          {o.notes && <p class="notes">{o.notes}</p>}
          {o.status === 'accepted' && (
            <button type="button" class="primary big" disabled={busy} onClick={() => act(() => offerDone(o.id))}>
              Soin réalisé
            </button>
          )}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
