import { useEffect, useState } from 'preact/hooks';
import { clock } from '../format';
import { onOfflineChange } from '../offline';

/**
 * Says when the phone shows what it kept because the hub cannot be reached, and since when
 * those copies date (what was typed meanwhile leaves when the network returns).
 */
export function OfflineBanner() {
  const [since, setSince] = useState<string | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    const stop = onOfflineChange(setSince);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
      stop();
    };
  }, []);
  if (online && !since) return null;
  return (
    <div class="banner offline" role="status" data-testid="offline">
      Hors ligne{since ? ` — données du téléphone, à jour de ${clock(since)}` : ''} : ce que vous saisissez est gardé et
      sera envoyé au retour du réseau.
    </div>
  );
}
