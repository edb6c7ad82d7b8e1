// Validate Kubernetes objects of kinds defined by CRDs against the JSON schemas that the
// @kubernetes-models npm packages generate from the projects' Go types or CRDs (types, enums,
// patterns, lengths, bounds, required fields). One script for every model family; a family is a
// folder of scripts/k8s-models/ (its package.json and lock), installed by
// scripts/install-test-tools.sh into .tools/models/FAMILY:
//   gateway-api  @kubernetes-models/gateway-api: HTTPRoute, GRPCRoute, BackendTLSPolicy...
//   gitops       @kubernetes-models/argo-cd and flux-cd: the gitops/ examples
//   crd          @kubernetes-models/keda, prometheus-operator, autoscaler: the chart's add-ons
// The model of an object is `node_modules/@kubernetes-models/*/APIVERSION/KIND.js` of the family,
// loaded by absolute path, so every kind a family's packages ship is checked without a list here.
// The script runs from the repository (it is versioned with the tests that call it); .tools
// holds only the npm packages. These schemas do not refuse unknown fields, and CEL rules are not
// checked: the tests compare the fields that matter by value.
//
// Usage: node validate.mjs MODELS_DIR FILE.json...   (MODELS_DIR: .tools/models/FAMILY; each
// file: a JSON array of objects). Prints one line per object (PASS or FAIL with the errors);
// exits 1 if any fails, 2 if there was nothing to validate, 3 if MODELS_DIR holds no models.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, ...files] = process.argv.slice(2);
const scope = join(dir ?? "", "node_modules", "@kubernetes-models");
if (!dir || !existsSync(scope)) {
  console.log(`no models in ${dir}: run scripts/install-test-tools.sh`);
  process.exit(3);
}
const packages = readdirSync(scope).map((p) => join(scope, p));

// apiVersion `group/version` and kind as the packages lay them out; anything else (a core kind,
// a path) has no model here.
function modelFile(obj) {
  const api = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\/v[0-9a-z]+$/;
  if (typeof obj.apiVersion !== "string" || !api.test(obj.apiVersion)) return undefined;
  if (typeof obj.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(obj.kind)) return undefined;
  return packages
    .map((p) => join(p, obj.apiVersion, `${obj.kind}.js`))
    .find((f) => existsSync(f));
}

let count = 0;
let failed = 0;
for (const file of files) {
  for (const obj of JSON.parse(readFileSync(file, "utf8"))) {
    const id = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    count++;
    const module = modelFile(obj);
    if (!module) {
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
