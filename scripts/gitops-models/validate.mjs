// Validate the gitops/ example objects against the JSON schemas that @kubernetes-models/argo-cd
// (Argo CD v3's Go types) and @kubernetes-models/flux-cd (source-controller v1, helm-controller
// v2) generate: types, enums, patterns, required fields. These schemas do not refuse unknown
// fields: tests/gitops.rs checks the fields that matter by value.
//
// Usage: node validate.mjs FILE.json...   (each file: a JSON array of objects)
// Prints one line per object (PASS or FAIL with the errors); exits 1 if any fails, 2 if there
// was nothing to validate. Installed into .tools/gitops-models/ by scripts/install-test-tools.sh.
import { readFileSync } from "node:fs";
import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import { ApplicationSet } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet";
import { AppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";
import { OCIRepository } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/OCIRepository";
import { HelmRelease } from "@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2/HelmRelease";

const models = {
  "argoproj.io/v1alpha1/Application": Application,
  "argoproj.io/v1alpha1/ApplicationSet": ApplicationSet,
  "argoproj.io/v1alpha1/AppProject": AppProject,
  "source.toolkit.fluxcd.io/v1/OCIRepository": OCIRepository,
  "helm.toolkit.fluxcd.io/v2/HelmRelease": HelmRelease,
};

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
