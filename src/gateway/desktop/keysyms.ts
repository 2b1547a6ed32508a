/**
 * Browser keyboard events → X keysym names for xdotool. Named keys come from a table; a printable
 * character becomes `U<hex>` (xdotool binds any Unicode keysym), so every token written to xdotool is
 * one of ours: letters, digits, `U` + hex, or a table name — never text from the viewer.
 */
const NAMED: Record<string, string> = {
  Enter: 'Return',
  Backspace: 'BackSpace',
  Tab: 'Tab',
  Escape: 'Escape',
  Delete: 'Delete',
  Insert: 'Insert',
  Home: 'Home',
  End: 'End',
  PageUp: 'Prior',
  PageDown: 'Next',
  ArrowLeft: 'Left',
  ArrowRight: 'Right',
  ArrowUp: 'Up',
  ArrowDown: 'Down',
  ' ': 'space',
  CapsLock: 'Caps_Lock',
  ContextMenu: 'Menu',
  PrintScreen: 'Print',
  Pause: 'Pause',
  ScrollLock: 'Scroll_Lock',
  NumLock: 'Num_Lock',
};

/** Left/right modifiers by `code` (the `key` is just "Shift", "Control"…). */
const MODIFIER_BY_CODE: Record<string, string> = {
  ShiftLeft: 'Shift_L',
  ShiftRight: 'Shift_R',
  ControlLeft: 'Control_L',
  ControlRight: 'Control_R',
  AltLeft: 'Alt_L',
  AltRight: 'Alt_R',
  MetaLeft: 'Super_L',
  MetaRight: 'Super_R',
};
const MODIFIER_BY_KEY: Record<string, string> = { Shift: 'Shift_L', Control: 'Control_L', Alt: 'Alt_L', Meta: 'Super_L', AltGraph: 'ISO_Level3_Shift' };

/** The keysym for a KeyboardEvent's `key`/`code`, or undefined for keys we do not send ("Unidentified", dead keys). */
export function keysymFor(key: string, code: string): string | undefined {
  if (MODIFIER_BY_CODE[code] && MODIFIER_BY_KEY[key]) return MODIFIER_BY_CODE[code];
  if (MODIFIER_BY_KEY[key]) return MODIFIER_BY_KEY[key];
  if (NAMED[key]) return NAMED[key];
  const f = /^F([1-9]|1[0-9]|2[0-4])$/.exec(key);
  if (f) return key;
  const chars = [...key];
  if (chars.length !== 1) return undefined;
  return charKeysym(chars[0]);
}

/** A keysym for one character (text input): letters and digits as themselves, the rest as `U<hex>`. */
export function charKeysym(ch: string): string | undefined {
  if (ch === '\n' || ch === '\r') return 'Return';
  if (ch === '\t') return 'Tab';
  const cp = ch.codePointAt(0);
  if (cp === undefined || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return undefined;
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  return `U${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
