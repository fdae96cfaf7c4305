/** The record name DO expects inside a zone: "@" for the apex, else the relative label(s). */
export function recordName(host: string, zone: string): string {
  if (host === zone) return "@";
  if (!host.endsWith(`.${zone}`)) throw new Error(`host "${host}" is not inside the zone "${zone}"`);
  return host.slice(0, -(zone.length + 1));
}
