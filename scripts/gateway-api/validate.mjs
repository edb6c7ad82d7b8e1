// Validate Gateway API objects against the JSON schemas that @kubernetes-models/gateway-api
// generates from the Gateway API's Go types (types, enums, patterns, lengths, bounds, required
// fields). kubernetes-validate has no CRD schemas, so rendered HTTPRoutes are checked here.
// These schemas do not refuse unknown fields, and CEL rules are not checked: the e2e oracle
// compares every rendered HTTPRoute with the exact object it expects.
//
// Usage: node validate.mjs FILE.json...   (each file: a JSON array of objects)
// Prints one line per object (PASS or FAIL with the errors); exits 1 if any fails, 2 if there
// was nothing to validate. Installed into .tools/gateway-api/ by scripts/install-test-tools.sh.
import { readFileSync } from "node:fs";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";

const models = { "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute };

let count = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const obj of JSON.parse(readFileSync(file, "utf8"))) {
    const id = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    const Model = models[`${obj.apiVersion}/${obj.kind}`];
    count++;
    if (!Model) {
      console.log(`FAIL ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
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
