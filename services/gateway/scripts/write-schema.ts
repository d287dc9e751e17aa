import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { protocolJsonSchemas } from '../src/protocols.js';

// Regenerates services/gateway/schema/*.json from the protocol's zod schemas:
//   npx tsx services/gateway/scripts/write-schema.ts
// protocol.test.ts fails while the files on disk differ from what this writes.
const dir = join(__dirname, '..', 'schema');
for (const [name, schema] of Object.entries(protocolJsonSchemas())) {
  writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${join(dir, name)}\n`);
}
