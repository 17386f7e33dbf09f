// Form pieces that show the hub's errors next to the field at fault.

import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';

export interface FormError {
  field: string | null;
  message: string;
}

export function toFormError(e: unknown): FormError {
  if (e instanceof ApiError) return { field: e.field, message: e.message };
  return { field: null, message: 'Erreur inattendue.' };
}

/** A labelled control; shows `error.message` under it when the error is about `name`. */
export function Field(props: { label: string; name: string; error?: FormError | null; children: ComponentChildren; wide?: boolean }) {
  const mine = props.error && props.error.field === props.name;
  return (
    <label class={`field${props.wide ? ' wide' : ''}${mine ? ' has-error' : ''}`} data-field={props.name}>
      <span>{props.label}</span>
      {props.children}
      {mine && (
        <small class="error" role="alert">
          {props.error!.message}
        </small>
      )}
    </label>
  );
}

/** An error not tied to one field (or about a field this form does not show). */
export function FormMessage(props: { error: FormError | null; shown: string[] }) {
  const e = props.error;
  if (!e || (e.field && props.shown.includes(e.field))) return null;
  return (
    <p class="error" role="alert">
      {e.message}
    </p>
  );
}
