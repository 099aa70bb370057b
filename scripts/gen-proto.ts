/**
 * Code generator for the etcd protobuf schema: reads the FileDescriptorSet that protoc made
 * from protocol/etcd/proto/*.proto and writes protocol/etcd/generated/*.ts (one module per
 * .proto, plus descriptors.ts). Run through scripts/gen-proto.sh (`npm run gen:proto`), which
 * runs protoc first. Usage: node dist/scripts/gen-proto.js <descriptor-set.pb> <out-dir>.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitDescriptors } from '../protocol/etcd/codegen/emit-descriptors';
import { emitModule } from '../protocol/etcd/codegen/emit-module';
import { loadSchema } from '../protocol/etcd/codegen/schema-model';

function main(argv: string[]): void {
  const [setPath, outDir] = argv;
  if (setPath === undefined || outDir === undefined) {
    process.stderr.write('usage: gen-proto <descriptor-set.pb> <out-dir>\n');
    process.exit(2);
  }
  const schema = loadSchema(readFileSync(setPath));
  mkdirSync(outDir, { recursive: true });
  const written = new Set<string>();
  const emit = (name: string, text: string): void => {
    writeFileSync(join(outDir, name), text);
    written.add(name);
  };
  for (const file of schema.files) emit(`${file.moduleName}.ts`, emitModule(file, schema));
  emit('descriptors.ts', emitDescriptors(schema));
  for (const stale of readdirSync(outDir)) {
    if (stale.endsWith('.ts') && !written.has(stale)) unlinkSync(join(outDir, stale));
  }
  process.stdout.write(`gen-proto: wrote ${written.size} files to ${outDir}\n`);
}

main(process.argv.slice(2));
