// Every dropstack policy, importable without starting the analyzer (tests use it).
import { backupsPolicies } from "./backups";
import { cachePolicies } from "./cache";
import { costPolicies } from "./cost";
import { databasePolicies } from "./database";
import { deployPolicies } from "./deploy";
import { hostPolicies } from "./host";
import { identityPolicies } from "./identity";
import { monitoringPolicies } from "./monitoring";
import { networkPolicies } from "./network";
import { observabilityPolicies } from "./observability";
import { proxyPolicies } from "./proxy";
import { scalePolicies } from "./scale";
import { secretsPolicies } from "./secrets";

export const policies = [
  ...networkPolicies,
  ...hostPolicies,
  ...identityPolicies,
  ...cachePolicies,
  ...monitoringPolicies,
  ...observabilityPolicies,
  ...databasePolicies,
  ...backupsPolicies,
  ...deployPolicies,
  ...proxyPolicies,
  ...secretsPolicies,
  ...costPolicies,
  ...scalePolicies,
];
