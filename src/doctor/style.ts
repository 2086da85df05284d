/** ANSI colours for the text report; identity functions when colour is off. */
export interface Style {
  pass(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const paint = (code: number, reset: number) => (text: string) => `\u001b[${code}m${text}\u001b[${reset}m`;
const plain = (text: string): string => text;

export function createStyle(color: boolean): Style {
  if (!color) return { pass: plain, fail: plain, warn: plain, dim: plain, bold: plain };
  return { pass: paint(32, 39), fail: paint(31, 39), warn: paint(33, 39), dim: paint(2, 22), bold: paint(1, 22) };
}

/** Colour only on a terminal, never with NO_COLOR (https://no-color.org), unless forced by a flag. */
export function wantsColor(flag: boolean | undefined, stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (flag !== undefined) return flag;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}
