// Config values reach the droplet as lines (hook stdin, docker env files, authorized_keys,
// nginx and redis config): a line break or other control character would end one entry
// and start another. Tab is the one control character these formats read literally.

/** Index of the first control character other than tab (C0, DEL), or -1. */
export function controlCharacterAt(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return i;
  }
  return -1;
}
