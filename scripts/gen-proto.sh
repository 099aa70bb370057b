#!/usr/bin/env bash
# Regenerates protocol/etcd/generated/*.ts from protocol/etcd/proto/*.proto.
# Needs protoc (Debian: protobuf-compiler) at dev time only; the output is committed.
#   scripts/gen-proto.sh              regenerate our codecs
#   scripts/gen-proto.sh --ts-proto D also generate ts-proto codecs into D and compile them
#                                     (for bench/protobuf-codec.ts comparisons only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
proto_dir=protocol/etcd/proto
out_dir=protocol/etcd/generated
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

protoc -I "$proto_dir" --include_imports --include_source_info \
  --descriptor_set_out="$tmp/etcd.pb" "$proto_dir"/*.proto
# Compile just the generator (the rest of the tree may be mid-change).
npx tsc -p protocol/etcd/codegen/tsconfig.json
node dist/scripts/gen-proto.js "$tmp/etcd.pb" "$out_dir"

if [ "${1:-}" = "--ts-proto" ]; then
  dest=${2:?--ts-proto needs a directory}
  mkdir -p "$dest/src"
  protoc -I "$proto_dir" --plugin=node_modules/.bin/protoc-gen-ts_proto --ts_proto_out="$dest/src" \
    --ts_proto_opt=forceLong=bigint,env=node,esModuleInterop=true,outputServices=false,oneof=unions,outputJsonMethods=false \
    "$proto_dir"/*.proto
  ln -sfn "$root/node_modules" "$dest/node_modules"
  cat >"$dest/tsconfig.json" <<JSON
{ "compilerOptions": { "target": "ES2022", "module": "nodenext", "types": ["node"], "strict": true,
  "skipLibCheck": true, "outDir": "out", "rootDir": "src" }, "include": ["src/*.ts"] }
JSON
  npx tsc -p "$dest/tsconfig.json"
  echo "gen-proto: ts-proto codecs compiled into $dest/out"
fi
