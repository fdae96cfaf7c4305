// What the config accepts as a hostname, in a module of its own: the renderers and the
// policy pack check hostnames too, and they need this rule without loading the schema.

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A lowercase DNS name of at least two labels, the last with a letter (not an IP address). */
export function isHostname(value: string): boolean {
  if (value.length > 253 || !value.includes(".")) return false;
  const labels = value.split(".");
  return labels.every((l) => HOSTNAME_LABEL.test(l)) && /[a-z]/.test(labels[labels.length - 1]);
}
