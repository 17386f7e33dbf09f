import type { Link } from '../live';

/** Tells the person when the live link to the hub is lost (it comes back by itself). */
export function LinkBanner(props: { link: Link }) {
  if (props.link === 'live') return null;
  return (
    <div class={`banner ${props.link}`} role="status" data-link={props.link}>
      {props.link === 'lost' ? 'Connexion au serveur perdue — reconnexion en cours…' : 'Connexion au serveur…'}
    </div>
  );
}
