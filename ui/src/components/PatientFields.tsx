// A patient's identity fields (as the INS carries them), shared by call intake and the EHPAD's
// new-resident form. `prefix` names the fields as the hub does in errors ("patient.birth_date").

import { Field, type FormError } from './form';

export interface Identity {
  birth_name: string;
  first_names: string;
  birth_date: string;
  sex: string;
}

export function PatientFields(props: {
  value: Identity;
  onChange: (key: keyof Identity, value: string) => void;
  error: FormError | null;
  prefix?: string;
  autoFocus?: boolean;
}) {
  const p = props.prefix ?? '';
  const on = (k: keyof Identity) => (e: Event) => props.onChange(k, (e.target as HTMLInputElement).value);
  return (
    <div class="row">
      <Field label="Nom de naissance" name={`${p}birth_name`} error={props.error}>
        <input value={props.value.birth_name} onInput={on('birth_name')} autoFocus={props.autoFocus} autocomplete="off" />
      </Field>
      <Field label="Prénoms" name={`${p}first_names`} error={props.error}>
        <input value={props.value.first_names} onInput={on('first_names')} />
      </Field>
      <Field label="Né(e) le" name={`${p}birth_date`} error={props.error}>
        <input type="date" value={props.value.birth_date} onInput={on('birth_date')} />
      </Field>
      <Field label="Sexe" name={`${p}sex`} error={props.error}>
        <select value={props.value.sex} onChange={on('sex')}>
          <option value="U">—</option>
          <option value="F">F</option>
          <option value="M">M</option>
        </select>
      </Field>
    </div>
  );
}
