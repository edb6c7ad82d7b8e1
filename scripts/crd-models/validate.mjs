// Validate the chart's add-on objects against the JSON schemas the npm packages generate from
// the projects' CRDs: @kubernetes-models/keda (ScaledObject, TriggerAuthentication),
// prometheus-operator (ServiceMonitor, PodMonitor) and autoscaler (VerticalPodAutoscaler):
// types, enums, patterns, required fields.
//
// Usage: node validate.mjs FILE.json...   (each file: a JSON array of objects)
// Prints one line per object (PASS or FAIL with the errors); exits 1 if any fails, 2 if there
// was nothing to validate. Installed into .tools/crd-models/ by scripts/install-test-tools.sh.
import { readFileSync } from "node:fs";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { VerticalPodAutoscaler } from "@kubernetes-models/autoscaler/autoscaling.k8s.io/v1/VerticalPodAutoscaler";

const models = {
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "autoscaling.k8s.io/v1/VerticalPodAutoscaler": VerticalPodAutoscaler,
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
