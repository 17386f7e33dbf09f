// The hub answers in English for developers; people read French. This maps an error (status,
// code, field) to a sentence a dispatcher or a doctor understands.

const FIELD_LABELS: Record<string, string> = {
  username: "l'identifiant",
  password: 'le mot de passe',
  display_name: 'le nom affiché',
  motive: 'le motif',
  urgency: "l'urgence",
  notes: 'les notes',
  patient_id: 'le patient',
  patient: 'le patient',
  'patient.birth_name': 'le nom de naissance',
  'patient.first_names': 'les prénoms',
  'patient.birth_date': 'la date de naissance',
  birth_name: 'le nom de naissance',
  first_names: 'les prénoms',
  birth_date: 'la date de naissance',
  nir: 'le NIR',
  address: "l'adresse",
  'address.line': "l'adresse (numéro et rue)",
  'address.city': 'la commune',
  'address.postcode': 'le code postal',
  'address.lat': 'la latitude',
  'address.lon': 'la longitude',
  lat: 'la latitude',
  lon: 'la longitude',
  doctor_id: 'le médecin',
  assistant_id: "l'assistante",
  institution_id: "l'établissement",
  'doctor.rpps': 'le numéro RPPS',
  finess: 'le numéro FINESS',
  status: 'le statut',
  reason: 'le motif',
  name: 'le nom',
  address_line: "l'adresse",
  postcode: 'le code postal',
  city: 'la commune',
  phone: 'le téléphone',
  mssante: "l'adresse MSSanté",
  'treating_physician.mssante': "l'adresse MSSanté",
  'treating_physician.name': 'le nom du médecin traitant',
  'treating_physician.rpps': 'le numéro RPPS',
  act: 'le soin',
  acts: 'les soins',
  window_minutes: 'le délai',
  callback_phone: 'le téléphone de rappel',
  base_url: "l'adresse du réseau",
  api_key: 'la clé API',
  area: 'la zone',
  'area.postcodes': 'les codes postaux',
  'area.lat': 'la latitude du centre',
  'area.lon': 'la longitude du centre',
  'area.radius_km': 'le rayon',
  radius_km: 'le rayon',
  postcodes: 'les codes postaux',
  priority: 'la priorité',
  active: "l'activation",
  network_id: 'le réseau infirmier',
  expected_at: "l'heure d'arrivée",
  proposed_at: "l'horaire proposé",
  on_duty: 'la disponibilité',
  'Idempotency-Key': 'la clé de la demande',
};

/** The French label of a field, e.g. "la date de naissance". */
export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? FIELD_LABELS[field.split('.').pop() ?? ''] ?? `le champ « ${field} »`;
}

function capitalise(s: string) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function frenchError(status: number, code: string, field: string | null, english: string): string {
  switch (code) {
    case 'unauthorized':
      return english.includes('wrong username')
        ? 'Identifiant ou mot de passe incorrect.'
        : 'Votre session a expiré : reconnectez-vous.';
    case 'forbidden':
      if (english.includes('validates')) return "Seul le médecin de la visite peut la clôturer : c'est lui qui valide.";
      if (english.includes('set off')) return 'Le médecin est déjà en route : appelez le standard pour annuler.';
      return "Votre rôle ne permet pas cette action.";
    case 'not_found':
      return 'Introuvable, ou non visible pour vous.';
    case 'conflict': {
      const who = english.match(/already assigned to (.+)$/);
      if (who) return `Déjà attribuée à ${who[1]}.`;
      if (field === 'username') return 'Cet identifiant est déjà pris.';
      if (field === 'name') return 'Ce nom est déjà pris.';
      if (english.includes('RPPS')) return 'Un autre médecin a déjà ce numéro RPPS.';
      if (english.includes('already acts')) return 'Cette assistante a déjà une délégation de ce médecin.';
      if (/offer|booking|nurse/i.test(english)) return "La demande d'infirmière a changé entre-temps : l'affichage est mis à jour.";
      return "La visite a changé entre-temps : l'affichage est mis à jour.";
    }
    // Partner nurses (#7).
    case 'no_network':
      return "Aucun réseau infirmier partenaire ne fait ce soin à cette adresse : appelez un cabinet infirmier.";
    case 'taken':
      return 'Prise par une autre infirmière.';
    case 'idempotency_key_reused':
      return 'Cette demande a déjà été envoyée avec d’autres choix : fermez la fenêtre et rouvrez-la pour en faire une nouvelle.';
    case 'hold_expired':
      return "Le délai pour répondre est dépassé : la demande a été proposée ailleurs.";
    case 'not_covered':
      return "Ce soin ou cette adresse n'est pas couvert par le réseau infirmier.";
    case 'out_of_sector':
      return "Adresse hors secteur : pas de visite à domicile. Proposer une téléconsultation, une consultation au centre ou le 15.";
    case 'payload_too_large':
      return 'Le texte envoyé est trop long.';
    case 'network':
      return 'Le serveur ne répond pas : vérifiez la connexion.';
    case 'invalid_field': {
      if (!field) return 'Une valeur saisie est invalide.';
      const label = fieldLabel(field);
      if (/out of range/.test(english)) return `${capitalise(label)} est hors limites.`;
      if (/missing field|say who|give the address|where should/.test(english)) return `${capitalise(label)} est obligatoire.`;
      if (/1 to \d+ characters|has \d+ to \d+ characters|at least/.test(english)) return `${capitalise(label)} : longueur incorrecte.`;
      if (/off duty/.test(english)) return 'Ce médecin est hors service.';
      if (/check digit|key is wrong/.test(english)) return `${capitalise(label)} : clé de contrôle fausse (faute de frappe ?).`;
      if (/no patient|no such|there is no/.test(english)) return `${capitalise(label)} : introuvable.`;
      if (/YYYY-MM-DD|future|1880/.test(english)) return `${capitalise(label)} : date invalide.`;
      if (/urgency/.test(english)) return "L'urgence va de 1 (la plus urgente) à 3.";
      if (/not a mail address|e-mail address/.test(english)) return `${capitalise(label)} n'est pas une adresse e-mail valide.`;
      if (/postcode has 5 digits/.test(english)) return 'Le code postal a 5 chiffres.';
      return `${capitalise(label)} : valeur invalide.`;
    }
    default:
      return status >= 500 ? 'Erreur du serveur : réessayez dans un instant.' : 'La demande est invalide.';
  }
}
