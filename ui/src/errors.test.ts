import { describe, expect, it } from 'vitest';
import { fieldLabel, frenchError } from './errors';

describe('hub errors are told in French from their structured detail', () => {
  it('names the field at fault and why', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'patient.birth_date', reason: 'format' })).toBe('La date de naissance : date invalide.');
    expect(frenchError(422, { code: 'invalid_field', field: 'patient.birth_date', reason: 'range' })).toBe('La date de naissance : date invalide.');
    expect(frenchError(422, { code: 'invalid_field', field: 'address.lat', reason: 'range', limits: { min: -90, max: 90 } })).toBe(
      'La latitude est hors limites (de -90 à 90).',
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'motive', reason: 'required' })).toBe('Le motif est obligatoire.');
    expect(frenchError(422, { code: 'invalid_field', field: 'doctor_id', reason: 'off_duty' })).toBe('Ce médecin est hors service.');
    expect(frenchError(422, { code: 'invalid_field', field: 'urgency', reason: 'range', limits: { min: 1, max: 3 } })).toBe(
      "L'urgence va de 1 (la plus urgente) à 3.",
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'nir', reason: 'check_digit' })).toMatch(/clé de contrôle/);
    expect(frenchError(422, { code: 'invalid_field', field: 'patient_id', reason: 'unknown' })).toBe('Le patient : introuvable.');
  });
  it('refuses a guessable password in words', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'password', reason: 'weak' })).toMatch(/trop facile à deviner/);
    expect(frenchError(422, { code: 'invalid_field', field: 'password', reason: 'length', limits: { min: 12 } })).toBe(
      'Le mot de passe : au moins 12 caractères.',
    );
  });
  it('tells a wrong current password, a wrong code and a missing second factor apart', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'current_password', reason: 'wrong_credentials' })).toBe(
      'Le mot de passe actuel est faux.',
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'code', reason: 'wrong_credentials' })).toMatch(/Code faux ou déjà utilisé/);
    expect(frenchError(401, { code: 'unauthorized', field: 'code', reason: 'wrong_credentials' })).toMatch(/Code faux/);
    expect(frenchError(401, { code: 'unauthorized', field: null, reason: 'wrong_credentials' })).toBe('Identifiant ou mot de passe incorrect.');
    expect(frenchError(401, { code: 'second_factor_required', field: 'code', reason: 'second_factor_required' })).toMatch(/code à 6 chiffres/);
    expect(frenchError(403, { code: 'second_factor_enrolment_required', reason: 'second_factor_enrolment' })).toMatch(/exige la double authentification/);
  });
  it('gives lengths as the hub counts them', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'motive', reason: 'length', limits: { min: 1, max: 500 } })).toBe(
      'Le motif : de 1 à 500 caractères.',
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'notes', reason: 'length', limits: { max: 4000 } })).toBe(
      'Les notes : au plus 4000 caractères.',
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'password', reason: 'length', limits: { min: 8 } })).toBe(
      'Le mot de passe : au moins 8 caractères.',
    );
  });
  it('never reads an English message', () => {
    // A field with no reason is "invalid", whatever English the hub would have said.
    expect(frenchError(422, { code: 'invalid_field', field: 'motive' })).toBe('Le motif : valeur invalide.');
    expect(frenchError(403, { code: 'forbidden' })).toBe('Votre rôle ne permet pas cette action.');
  });
  it('says who won an assignment race', () => {
    expect(frenchError(409, { code: 'conflict', field: 'status', reason: 'already_assigned', subject: 'Dr Claire Martin' })).toBe(
      'Déjà attribuée à Dr Claire Martin.',
    );
    expect(frenchError(409, { code: 'conflict', field: 'status' })).toMatch(/a changé entre-temps/);
  });
  it('tells a wrong password from an expired session', () => {
    expect(frenchError(401, { code: 'unauthorized', reason: 'wrong_credentials' })).toBe('Identifiant ou mot de passe incorrect.');
    expect(frenchError(401, { code: 'unauthorized' })).toMatch(/reconnectez/);
  });
  it('explains why an assistant cannot close, and a nurse cannot cancel', () => {
    expect(frenchError(403, { code: 'forbidden', reason: 'doctor_validates' })).toMatch(/valide/);
    expect(frenchError(403, { code: 'forbidden', reason: 'doctor_on_the_way' })).toMatch(/en route/);
  });
  it('words the association’s letterhead errors', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'mssante', reason: 'format' })).toBe("L'adresse MSSanté n'est pas une adresse e-mail valide.");
    expect(frenchError(422, { code: 'invalid_field', field: 'postcode', reason: 'format' })).toBe('Le code postal a 5 chiffres.');
  });
  it('has a label for unknown fields too', () => {
    expect(fieldLabel('address.postcode')).toBe('le code postal');
    expect(fieldLabel('mystery')).toBe('le champ « mystery »');
  });
});

describe('the roster and its imports (#16)', () => {
  it('names the line and column of an imported file, in French', () => {
    expect(frenchError(422, { code: 'invalid_field', field: 'line 3.medecin', reason: 'unknown', subject: 'personne' })).toBe(
      'Ligne 3, colonne « medecin » : médecin inconnu « personne » (identifiant, RPPS ou nom).',
    );
    expect(frenchError(422, { code: 'invalid_field', field: 'line 2.fin', reason: 'format', subject: '08:00' })).toMatch(/^Ligne 2, colonne « fin » : date et heure illisibles « 08:00 »/);
    expect(frenchError(422, { code: 'invalid_field', field: 'line 1' })).toMatch(/medecin;debut;fin/);
  });
  it('says when a doctor is already on call', () => {
    expect(frenchError(409, { code: 'conflict', field: 'starts_at', reason: 'shift_overlap', subject: '2031-03-03 20:00 → 2031-03-04 08:00' })).toBe(
      'Ce médecin est déjà de garde (2031-03-03 20:00 → 2031-03-04 08:00).',
    );
    expect(frenchError(409, { code: 'conflict', field: 'line 4.starts_at', reason: 'shift_overlap', subject: 'x' })).toMatch(/^Ligne 4 : ce médecin/);
  });
});
