// Every dropstack policy, importable without starting the analyzer (tests use it).
import { hostPolicies } from "./host";
import { identityPolicies } from "./identity";
import { networkPolicies } from "./network";

export const policies = [...networkPolicies, ...hostPolicies, ...identityPolicies];
