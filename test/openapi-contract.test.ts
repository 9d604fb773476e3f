// The document says every answer a route can give: each operation has an operationId, every
// status it can send and every header a caller reads. Routes added later are held to it too.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateOpenapi } from '../scripts/lib/openapi.js';
import { readBody } from '../src/api-clients/resource/input.js';
import { DEFAULT_FIELDS } from '../src/api-clients/resource/mapping.js';
import { apiClientErrors, clientIdErrors } from '../src/api-clients/resource/rules.js';

type Header = { schema: Record<string, unknown> };
type Response = {
  headers?: Record<string, Header>;
  content?: Record<string, { schema: Record<string, unknown> }>;
};
type MediaType = {
  schema: Record<string, unknown>;
  example?: Record<string, unknown>;
  examples?: Record<string, { value: Record<string, unknown> }>;
};
type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, Response>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

let document: Document;
const operations: [string, Operation][] = [];
beforeAll(async () => {
  document = JSON.parse(await generateOpenapi());
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods))
      operations.push([`${method} ${path}`, operation]);
});

/** The statuses and headers an operation can send, from what it takes and what it is. */
function expectedAnswers(operation: Operation): { statuses: number[]; headers: [string, string][] } {
  const statuses = [500];
  const headers: [string, string][] = [];
  const params = operation.parameters ?? [];
  if (operation.security) {
    statuses.push(401, 403, 429, 503);
    headers.push(['401', 'www-authenticate'], ['429', 'retry-after'], ['503', 'retry-after']);
  }
  if (params.length > 0 || operation.requestBody) statuses.push(400);
  if (operation.requestBody) statuses.push(413, 415);
  if (params.some((p) => p.in === 'path' && p.name === 'clientId')) statuses.push(404);
  if (params.some((p) => p.in === 'header' && p.name === 'if-match')) statuses.push(412);
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!status.startsWith('2')) continue;
    const text = JSON.stringify(response.content ?? {});
    if (/ApiClient"|ApiClientWithSecret/.test(text) && status !== '204') headers.push([status, 'etag']);
    if (/Secret/.test(text)) headers.push([status, 'cache-control']);
    if (status === '201') headers.push([status, 'location']);
  }
  return { statuses, headers };
}

describe('the OpenAPI document as a contract', () => {
  it('names every operation: a unique camelCase operationId', () => {
    const ids = operations.map(([, operation]) => operation.operationId);
    for (const [name, operation] of operations)
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares every status and header each operation can send', () => {
    for (const [name, operation] of operations) {
      const { statuses, headers } = expectedAnswers(operation);
      for (const status of statuses)
        expect(operation.responses, `${name} ${status}`).toHaveProperty(String(status));
      for (const [status, header] of headers)
        expect(operation.responses[status]?.headers, `${name} ${status} ${header}`).toHaveProperty(header);
    }
  });

  it('answers every refusal as a problem with its request id', () => {
    for (const [name, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual([
          'application/problem+json',
        ]);
        expect(response.headers, `${name} ${status}`).toHaveProperty('x-request-id');
      }
    }
  });

  it('takes a JSON merge patch on PATCH', () => {
    const patches = operations.filter(([name]) => name.startsWith('patch '));
    expect(patches.length).toBeGreaterThan(0);
    for (const [, operation] of patches)
      expect(Object.keys(operation.requestBody?.content ?? {})).toContain('application/merge-patch+json');
  });

  it("gives examples that pass the schema and the service's own rules", () => {
    const ajv = addFormats.default(new Ajv({ strict: false, allErrors: true }));
    const catalogue = new Set(['datahub-api', 'push-data']);
    let checked = 0;
    for (const [name, operation] of operations) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const examples = [
          ...(media.example ? [media.example] : []),
          ...Object.values(media.examples ?? {}).map((example) => example.value),
        ];
        for (const example of examples) {
          expect(ajv.validate(media.schema, example), `${name} ${ajv.errorsText()}`).toBe(true);
          const fields = readBody(example, []).over({ ...DEFAULT_FIELDS, capabilityTypes: ['Script'] });
          const clientId = typeof example.clientId === 'string' ? example.clientId : 'acme_example';
          const context = {
            accountId: 'acme',
            clientId,
            catalogue,
            roleCatalogue: new Set(['insights-viewer', 'insights-editor']),
            allowWildcardWebOrigin: false,
          };
          expect([...clientIdErrors(clientId, 'acme'), ...apiClientErrors(fields, context)], name).toEqual(
            [],
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});
