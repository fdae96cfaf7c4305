// The nginx.conf input tests change one thing of, and what validateNginxConfInput says then.
import { type NginxConfInput, validateNginxConfInput } from "../../components/proxy/render";

/** The problems with `valid` changed by `change` (on a copy: `valid` itself stays valid). */
export function problemsAfterChange(valid: NginxConfInput, change: (input: NginxConfInput) => void): string[] {
  const input = structuredClone(valid);
  change(input);
  return validateNginxConfInput(input);
}
