// Validate rendered Gateway API objects of any kind @kubernetes-models/gateway-api ships
// (HTTPRoute, GRPCRoute, BackendTLSPolicy, ...), with the models the installed validator uses
// (.tools/gateway-api/node_modules), loaded by absolute path so that the shared tool needs no
// reinstall. Same output as scripts/gateway-api/validate.mjs: PASS/FAIL per object; exit 1 if
// any fails, 2 if there was nothing to validate.
//
// Usage: node gateway_api_kinds.mjs MODELS_DIR FILE.json...
//   MODELS_DIR: .../node_modules/@kubernetes-models/gateway-api
import { readFileSync, existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [dir, ...files] = process.argv.slice(2);
let count = 0;
let failed = 0;
for (const file of files) {
  for (const obj of JSON.parse(readFileSync(file, "utf8"))) {
    const id = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    count++;
    const module = `${dir}/${obj.apiVersion}/${obj.kind}.js`;
    if (!obj.apiVersion?.startsWith("gateway.networking.k8s.io/") || !existsSync(module)) {
      console.log(`FAIL ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
    const Model = (await import(pathToFileURL(module).href))[obj.kind];
    try {
      new Model(obj).validate();
      console.log(`PASS ${id}`);
    } catch (e) {
      console.log(`FAIL ${id}: ${e.message}`);
      failed++;
    }
  }
}
if (count === 0) {
  console.log("nothing to validate");
  process.exit(2);
}
process.exit(failed ? 1 : 0);
