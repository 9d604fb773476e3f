// A catalogue (scopes or roles) as checkboxes with their descriptions.
import type { CatalogueEntry } from './api.js';
import { Checkbox } from './ui.js';

export function CatalogueChoices(props: {
  legend: string;
  help: string;
  idPrefix: string;
  catalogue: CatalogueEntry[];
  chosen: string[];
  errors?: string[] | undefined;
  disabled: boolean;
  onChange: (chosen: string[]) => void;
}) {
  const { legend, help, idPrefix, catalogue, chosen, errors, disabled, onChange } = props;
  // A name taken out of the catalogue stays visible on a client that has it, and can be removed;
  // so does a role the caller does not hold (SPEC §4: it may be kept or removed, never added).
  const retired = chosen.filter((name) => !catalogue.some((entry) => entry.name === name));
  const entries = [
    ...catalogue.map((entry) =>
      entry.grantable === false
        ? { ...entry, description: `${entry.description} You do not hold this role: you cannot give it.` }
        : entry,
    ),
    ...retired.map((name) => ({
      name,
      grantable: false,
      description: 'No longer offered: it can be removed, not added again.',
    })),
  ];
  return (
    <fieldset aria-describedby={`${idPrefix}-help${errors?.length ? ` ${idPrefix}-error` : ''}`}>
      <legend>{legend}</legend>
      <p class="help" id={`${idPrefix}-help`}>
        {help}
      </p>
      {entries.length === 0 && <p>None offered.</p>}
      {entries.map((entry) => (
        <Checkbox
          key={entry.name}
          id={`${idPrefix}-${entry.name}`}
          label={entry.name}
          help={entry.description}
          checked={chosen.includes(entry.name)}
          disabled={disabled || (entry.grantable === false && !chosen.includes(entry.name))}
          onChange={(on) =>
            onChange(on ? [...chosen, entry.name] : chosen.filter((name) => name !== entry.name))
          }
        />
      ))}
      {errors && errors.length > 0 && (
        <ul class="field-errors" id={`${idPrefix}-error`}>
          {errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
