// npm run openapi: writes openapi/openapi.json from the routes' schemas.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOpenapi, openapiFile } from './lib/openapi.js';

writeFileSync(openapiFile, await generateOpenapi());
console.log(`wrote ${fileURLToPath(openapiFile)}`);
