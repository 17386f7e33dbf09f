import { describe, expect, it } from 'vitest';
import { fieldLabel, frenchError } from './errors';

describe('hub errors are told in French', () => {
  it('names the field at fault', () => {
    expect(frenchError(422, 'invalid_field', 'patient.birth_date', '"31/12" is not a date in the form YYYY-MM-DD')).toBe(
      'La date de naissance : date invalide.',
    );
    expect(frenchError(422, 'invalid_field', 'address.lat', 'latitude 200 is out of range (-90 to 90)')).toBe('La latitude est hors limites.');
    expect(frenchError(422, 'invalid_field', 'motive', 'missing field `motive`')).toBe('Le motif est obligatoire.');
    expect(frenchError(422, 'invalid_field', 'doctor_id', 'this doctor is off duty')).toBe('Ce médecin est hors service.');
  });
  it('says who won an assignment race', () => {
    expect(frenchError(409, 'conflict', 'status', 'this visit is already assigned to Dr Claire Martin')).toBe('Déjà attribuée à Dr Claire Martin.');
  });
  it('tells a wrong password from an expired session', () => {
    expect(frenchError(401, 'unauthorized', null, 'wrong username or password')).toBe('Identifiant ou mot de passe incorrect.');
    expect(frenchError(401, 'unauthorized', null, 'the session token is unknown, expired or revoked; log in again')).toMatch(/reconnectez/);
  });
  it('explains why an assistant cannot close', () => {
    expect(frenchError(403, 'forbidden', null, 'only the visit\'s doctor closes it: he validates what was done')).toMatch(/valide/);
  });
  it('words the association’s letterhead errors', () => {
    expect(frenchError(422, 'invalid_field', 'mssante', 'not a mail address')).toBe("L'adresse MSSanté n'est pas une adresse e-mail valide.");
    expect(frenchError(422, 'invalid_field', 'postcode', 'a French postcode has 5 digits')).toBe('Le code postal a 5 chiffres.');
  });
  it('has a label for unknown fields too', () => {
    expect(fieldLabel('address.postcode')).toBe('le code postal');
    expect(fieldLabel('mystery')).toBe('le champ « mystery »');
  });
});
