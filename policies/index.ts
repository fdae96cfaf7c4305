// The dropstack policy pack. Constructing PolicyPack starts the gRPC analyzer that the
// Pulumi CLI (or tools/check) talks to. Enforcement per stack: staging.json, production.json.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./all";
import { captureStackConfig } from "./stack-config";

captureStackConfig();

new PolicyPack("dropstack", {
  enforcementLevel: "mandatory",
  policies,
});
