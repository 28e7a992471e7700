import fs from 'node:fs';
import { generateOpenApi } from '../src/http/openapi-document.js';

const file = new URL('../openapi.json', import.meta.url);
fs.writeFileSync(file, await generateOpenApi());
process.stdout.write('wrote openapi.json\n');
