import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenapi, openapiFile } from '../scripts/lib/openapi.js';

describe('the committed OpenAPI document', () => {
  it('is what the code produces (run `npm run openapi` after changing routes)', async () => {
    const committed = readFileSync(openapiFile, 'utf8');
    expect(committed).toBe(await generateOpenapi());
  });

  it('is OpenAPI 3.1 and describes problem answers', async () => {
    const document = JSON.parse(await generateOpenapi());
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.schemas.Problem.properties.type).toBeDefined();
  });
});
