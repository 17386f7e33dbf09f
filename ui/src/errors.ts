// The hub answers in English for developers; people read French. This maps an error's structured
// detail (status, code, field, reason, limits, subject) to a sentence a dispatcher or a doctor
// understands. It never reads the English message.

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
  current_password: 'le mot de passe actuel',
  new_password: 'le nouveau mot de passe',
  code: 'le code',
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

/** What the hub says about a failure, beside its English message. */
export interface ErrorDetail {
  code: string;
  field?: string | null;
  /** Why (see the hub's `Reason`): required, length, range, format, check_digit, unknown, ... */
  reason?: string | null;
  limits?: { min?: number | null; max?: number | null } | null;
  /** Who or what the reason is about, e.g. the doctor a visit is already assigned to. */
  subject?: string | null;
}

const NURSE_CHANGED = "La demande d'infirmière a changé entre-temps : l'affichage est mis à jour.";

/** "de 1 à 500 caractères", "au plus 500 caractères", "au moins 8 caractères". */
function lengthWords(limits: ErrorDetail['limits']): string {
  const min = limits?.min ?? null;
  const max = limits?.max ?? null;
  if (min !== null && max !== null) return min === max ? `${max} caractères` : `de ${min} à ${max} caractères`;
  if (max !== null) return `au plus ${max} caractères`;
  if (min !== null) return `au moins ${min} caractères`;
  return 'une longueur acceptable';
}

function rangeWords(limits: ErrorDetail['limits']): string {
  const n = (x: number) => x.toLocaleString('fr-FR');
  const min = limits?.min ?? null;
  const max = limits?.max ?? null;
  if (min !== null && max !== null) return ` (de ${n(min)} à ${n(max)})`;
  if (max !== null) return ` (au plus ${n(max)})`;
  if (min !== null) return ` (au moins ${n(min)})`;
  return '';
}

/** An error on one line of an imported file (`line 3.debut`): « Ligne 3, colonne debut : … ». */
function lineError(d: ErrorDetail, line: string, column: string | undefined): string {
  const where = column ? `Ligne ${line}, colonne « ${column} »` : `Ligne ${line}`;
  const value = d.subject ? ` « ${d.subject} »` : '';
  switch (d.reason) {
    case 'unknown':
      return `${where} : ${column === 'secteur' ? 'secteur' : 'médecin'} inconnu${value} (identifiant, RPPS ou nom).`;
    case 'format':
      return `${where} : date et heure illisibles${value} (JJ/MM/AAAA HH:MM).`;
    case 'range':
      return `${where} : la garde doit finir après son début, et durer au plus 36 heures.`;
    case 'shift_overlap':
      return `${where} : chevauche ${d.subject ?? 'une autre ligne'} pour le même médecin.`;
    case 'length':
      return `${where} : au plus ${d.limits?.max ?? 2000} gardes par fichier.`;
    default:
      return `${where} : ${line === '1' ? 'la première ligne nomme les colonnes : medecin;debut;fin;secteur.' : 'valeur invalide.'}`;
  }
}

function invalidField(d: ErrorDetail): string {
  const field = d.field;
  if (!field) return 'Une valeur saisie est invalide.';
  const line = /^line (\d+)(?:\.(\w+))?$/.exec(field);
  if (line) return lineError(d, line[1], line[2]);
  const label = capitalise(fieldLabel(field));
  const last = field.split('.').pop() ?? field;
  switch (d.reason) {
    case 'required':
      return `${label} est obligatoire.`;
    case 'length':
      return `${label} : ${lengthWords(d.limits)}.`;
    case 'range':
      if (last === 'urgency') return "L'urgence va de 1 (la plus urgente) à 3.";
      if (last.endsWith('date') || last.endsWith('_at')) return `${label} : date invalide.`;
      return `${label} est hors limites${rangeWords(d.limits)}.`;
    case 'format':
      if (last.endsWith('date')) return `${label} : date invalide.`;
      if (last === 'postcode') return 'Le code postal a 5 chiffres.';
      if (last === 'mssante' || last === 'email') return `${label} n'est pas une adresse e-mail valide.`;
      return `${label} : format invalide.`;
    case 'check_digit':
      return `${label} : clé de contrôle fausse (faute de frappe ?).`;
    case 'unknown':
      return `${label} : introuvable.`;
    case 'off_duty':
      return 'Ce médecin est hors service.';
    case 'weak':
      return 'Ce mot de passe est trop facile à deviner : choisissez une phrase de quelques mots.';
    case 'wrong_credentials':
      if (last === 'code') return WRONG_CODE;
      if (last === 'current_password') return 'Le mot de passe actuel est faux.';
      return 'Identifiant ou mot de passe incorrect.';
    default:
      return `${label} : valeur invalide.`;
  }
}

const WRONG_CODE = 'Code faux ou déjà utilisé : saisissez le code affiché maintenant.';

export function frenchError(status: number, d: ErrorDetail): string {
  switch (d.code) {
    case 'unauthorized':
      if (d.reason === 'wrong_credentials') return d.field === 'code' ? WRONG_CODE : 'Identifiant ou mot de passe incorrect.';
      return 'Votre session a expiré : reconnectez-vous.';
    case 'second_factor_required':
      return "Saisissez le code à 6 chiffres de votre application d'authentification.";
    case 'second_factor_enrolment_required':
      return "L'association exige la double authentification pour votre compte : activez-la d'abord.";
    case 'forbidden':
      if (d.reason === 'doctor_validates') return "Seul le médecin de la visite peut la clôturer : c'est lui qui valide.";
      if (d.reason === 'doctor_on_the_way') return 'Le médecin est déjà en route : appelez le standard pour annuler.';
      return 'Votre rôle ne permet pas cette action.';
    case 'not_found':
      return 'Introuvable, ou non visible pour vous.';
    case 'conflict':
      if (d.reason === 'already_assigned') return d.subject ? `Déjà attribuée à ${d.subject}.` : 'Déjà attribuée à un autre médecin.';
      if (d.reason === 'shift_overlap') {
        const line = d.field && /^line (\d+)/.exec(d.field);
        const already = `ce médecin est déjà de garde${d.subject ? ` (${d.subject})` : ' à ce moment-là'}.`;
        return line ? `Ligne ${line[1]} : ${already}` : already.charAt(0).toUpperCase() + already.slice(1);
      }
      if (d.field === 'version') return "La visite a été modifiée entre-temps par quelqu'un d'autre : l'affichage est mis à jour, refaites la modification.";
      if (d.field === 'username') return 'Cet identifiant est déjà pris.';
      if (d.field === 'name') return 'Ce nom est déjà pris.';
      if (d.field === 'rpps' || d.field === 'doctor.rpps') return 'Un autre médecin a déjà ce numéro RPPS.';
      if (d.field === 'finess') return 'Un autre établissement a déjà ce numéro FINESS.';
      if (d.field === 'assistant_id') return 'Cette assistante a déjà une délégation de ce médecin.';
      return "La visite a changé entre-temps : l'affichage est mis à jour.";
    // Partner nurses (#7).
    case 'booking_changed':
    case 'cancelled':
    case 'already_done':
    case 'already_accepted':
    case 'not_proposed':
    case 'not_allowed_now':
      return NURSE_CHANGED;
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
    case 'invalid_field':
      return invalidField(d);
    default:
      return status >= 500 ? 'Erreur du serveur : réessayez dans un instant.' : 'La demande est invalide.';
  }
}
