/**
 * An incremental Server-Sent-Events parser (WHATWG HTML "event stream interpretation").
 *
 * Bytes go in with `push(chunk)`; events come out one at a time with `next()` (pull-based, so a
 * caller can hand the first event of a large chunk on before parsing the rest). Chunks may be split
 * anywhere: inside a line, between CR and LF, or inside a UTF-8 sequence (a streaming TextDecoder
 * holds partial sequences; it also drops a leading BOM). Line ends are CRLF, LF or CR.
 *
 * Hot path: one `indexOf` per line end (cached positions for CR and LF), no regex, and the unread
 * tail of the previous chunk is the only text ever copied.
 */

export interface SseEvent {
  /** The `event:` field, or `message` when absent. */
  type: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event id seen on this stream (persists across events, per spec). */
  id: string;
  /** The `retry:` value, when this event carried one. */
  retry?: number;
}

export interface SseEndState {
  /** True when the stream ended inside an event (text or fields after the last blank line). */
  incomplete: boolean;
}

const LF = 10;
const COLON = 58;
const SPACE = 32;
const D = 100;
/** Position cache value meaning "not searched since the buffer changed". */
const UNKNOWN = -2;

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buf = '';
  private pos = 0;
  private nextLf = UNKNOWN;
  private nextCr = UNKNOWN;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  private skipLf = false;
  private data: string | undefined;
  private eventType = '';
  private lastId = '';
  private retry: number | undefined;
  private sawField = false;

  /** Appends bytes. Call `next()` until it returns undefined to drain the events they complete. */
  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    if (text.length === 0) return;
    this.buf = this.pos >= this.buf.length ? text : this.buf.slice(this.pos) + text;
    this.pos = 0;
    this.nextLf = UNKNOWN;
    this.nextCr = UNKNOWN;
  }

  /** Returns the next complete event, or undefined when the buffered text holds no further one. */
  next(): SseEvent | undefined {
    const buf = this.buf;
    const len = buf.length;
    let pos = this.pos;
    while (pos < len) {
      if (this.skipLf) {
        this.skipLf = false;
        if (buf.charCodeAt(pos) === LF) {
          pos++;
          continue;
        }
      }
      let lf = this.nextLf;
      if (lf !== -1 && lf < pos) lf = this.nextLf = buf.indexOf('\n', pos);
      let cr = this.nextCr;
      if (cr !== -1 && cr < pos) cr = this.nextCr = buf.indexOf('\r', pos);
      let end: number;
      let after: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        if (lf === -1) break;
        end = lf;
        after = lf + 1;
      } else {
        end = cr;
        if (cr + 1 < len) {
          after = buf.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        } else {
          after = cr + 1;
          this.skipLf = true;
        }
      }
      const event = end === pos ? this.dispatch() : this.field(buf, pos, end);
      pos = after;
      if (event !== undefined) {
        this.pos = pos;
        return event;
      }
    }
    this.pos = pos;
    return undefined;
  }

  /**
   * Ends the stream. Per spec an event not followed by a blank line is discarded, never dispatched;
   * the returned state tells the caller whether that happened (a likely truncation).
   */
  end(): SseEndState {
    const rest = this.decoder.decode();
    const tail = this.buf.slice(this.pos) + rest;
    const incomplete = tail.length > 0 || this.sawField;
    this.buf = '';
    this.pos = 0;
    this.data = undefined;
    this.eventType = '';
    this.sawField = false;
    return { incomplete };
  }

  private field(buf: string, start: number, end: number): undefined {
    const c = buf.charCodeAt(start);
    if (c === COLON) return undefined; // comment
    this.sawField = true;
    let name: string;
    let valueStart: number;
    if (c === D && buf.startsWith('data:', start) && start + 5 <= end) {
      name = 'data';
      valueStart = start + 5;
    } else {
      const colon = buf.indexOf(':', start);
      if (colon === -1 || colon > end) {
        name = buf.slice(start, end);
        valueStart = end;
      } else {
        name = buf.slice(start, colon);
        valueStart = colon + 1;
      }
    }
    if (valueStart < end && buf.charCodeAt(valueStart) === SPACE) valueStart++;
    const value = buf.slice(valueStart, end);
    switch (name) {
      case 'data':
        this.data = this.data === undefined ? value : this.data + '\n' + value;
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (value.length > 0 && isDigits(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const type = this.eventType;
    const retry = this.retry;
    this.data = undefined;
    this.eventType = '';
    this.retry = undefined;
    this.sawField = false;
    if (data === undefined) return undefined;
    const event: SseEvent = { type: type || 'message', data, id: this.lastId };
    if (retry !== undefined) event.retry = retry;
    return event;
  }
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a whole byte sequence (tests, fixtures, error bodies). */
export function parseSse(chunks: Iterable<Uint8Array>): { events: SseEvent[]; end: SseEndState } {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let e = parser.next(); e !== undefined; e = parser.next()) events.push(e);
  }
  return { events, end: parser.end() };
}
