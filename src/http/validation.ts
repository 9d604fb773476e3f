import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Two validators: path, query and headers are strings on the wire and are coerced to the
 * schema's types; a JSON body is taken as sent (no coercion, no removal, no defaults), so that
 * `"enabled": "false"` or an unknown field is refused rather than silently changed or dropped.
 * Both report every failing field, not only the first.
 */
export function installValidators(app: FastifyInstance): void {
  const common: Options = { allErrors: true, strict: false, keywords: ['example'] };
  const body = addFormats.default(
    new Ajv({ ...common, coerceTypes: false, useDefaults: false, removeAdditional: false }),
  );
  const parts = addFormats.default(
    new Ajv({ ...common, coerceTypes: 'array', useDefaults: true, removeAdditional: false }),
  );
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : parts).compile(schema));
}
