// Small accessible building blocks: a labelled field with its help text and its errors, a modal
// dialog (the native <dialog>: focus moves in, Escape closes, the page behind is inert).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const describedBy = (...ids: (string | false | 0 | undefined)[]) =>
  ids.filter(Boolean).join(' ') || undefined;

interface FieldProps {
  id: string;
  label: string;
  help?: string;
  errors?: string[] | undefined;
}

function FieldFrame({ id, label, help, errors, children }: FieldProps & { children: ComponentChildren }) {
  return (
    <div class={`field${errors?.length ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {help && (
        <p class="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      {children}
      {errors && errors.length > 0 && (
        <ul class="field-errors" id={`${id}-error`}>
          {errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function TextField(
  props: FieldProps & {
    value: string;
    onInput?: (value: string) => void;
    readOnly?: boolean;
    prefix?: string;
    required?: boolean;
  },
) {
  const { id, help, errors, value, onInput, readOnly, prefix, required } = props;
  const input = (
    <input
      id={id}
      name={id}
      type="text"
      value={value}
      readOnly={readOnly}
      required={required}
      autoComplete="off"
      spellcheck={false}
      aria-invalid={errors?.length ? true : undefined}
      aria-describedby={describedBy(
        prefix && `${id}-prefix`,
        help && `${id}-help`,
        errors?.length && `${id}-error`,
      )}
      onInput={(event) => onInput?.((event.currentTarget as HTMLInputElement).value)}
    />
  );
  return (
    <FieldFrame {...props}>
      {prefix ? (
        <div class="prefixed">
          <span class="prefix" id={`${id}-prefix`}>
            {prefix}
          </span>
          {input}
        </div>
      ) : (
        input
      )}
    </FieldFrame>
  );
}

/** A list of values, one per line. */
export function ListField(props: FieldProps & { value: string; onInput: (value: string) => void }) {
  const { id, help, errors, value, onInput } = props;
  return (
    <FieldFrame {...props}>
      <textarea
        id={id}
        name={id}
        rows={3}
        value={value}
        spellcheck={false}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy(help && `${id}-help`, errors?.length && `${id}-error`)}
        onInput={(event) => onInput((event.currentTarget as HTMLTextAreaElement).value)}
      />
    </FieldFrame>
  );
}

export function Checkbox(props: {
  id: string;
  label: string;
  help?: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
}) {
  const { id, label, help, checked, onChange, disabled } = props;
  return (
    <div class="check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        aria-describedby={help ? `${id}-help` : undefined}
        onChange={(event) => onChange((event.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{label}</label>
      {help && (
        <p class="help" id={`${id}-help`}>
          {help}
        </p>
      )}
    </div>
  );
}

/** Errors of the form as a whole (and of fields it has no input for), announced at once. */
export function FormErrors({ detail, rest }: { detail?: string | undefined; rest: string[] }) {
  if (!detail && rest.length === 0) return null;
  return (
    <div class="form-errors" role="alert">
      {detail && <p>{detail}</p>}
      {rest.length > 0 && (
        <ul>
          {rest.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * A confirmation: says what breaks, then the action. The native modal <dialog> keeps focus
 * inside, closes on Escape and gives focus back to the button that opened it.
 */
export function ConfirmDialog(props: {
  id: string;
  title: string;
  open: boolean;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { id, title, open, confirmLabel, danger, busy, onConfirm, onClose, children } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      id={id}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onClose={onClose}
      onCancel={onClose}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-body`}>{children}</div>
      <div class="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function formatDate(value: string | null | undefined, none = 'Never'): string {
  if (!value) return none;
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
