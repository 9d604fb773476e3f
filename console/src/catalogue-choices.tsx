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
  // a name taken out of the catalogue stays visible on a client that has it, and can be removed
  const retired = chosen.filter((name) => !catalogue.some((entry) => entry.name === name));
  const entries = [
    ...catalogue,
    ...retired.map((name) => ({
      name,
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
          disabled={disabled || (retired.includes(entry.name) && !chosen.includes(entry.name))}
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
