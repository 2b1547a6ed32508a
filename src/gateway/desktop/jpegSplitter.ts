/**
 * Splits ffmpeg's MJPEG byte stream (`-f image2pipe`) into whole JPEGs. It walks the marker segments
 * (their lengths say where each ends) up to SOS, then scans the entropy-coded data for EOI (FFD9): in
 * that data every 0xFF is followed by 0x00 or a restart marker, so FFD9 can only be the end. Bytes
 * before a SOI are skipped; a frame larger than `maxFrameBytes` is dropped and scanning resynchronises.
 */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Frames dropped because they were too large or malformed. */
  dropped = 0;

  constructor(
    private readonly onFrame: (jpeg: Buffer) => void,
    private readonly maxFrameBytes = 8 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const start = this.buf.indexOf(SOI);
      if (start < 0) {
        this.buf = this.buf.subarray(Math.max(0, this.buf.length - 1));
        return;
      }
      if (start > 0) this.buf = this.buf.subarray(start);
      const end = this.frameEnd();
      if (end === 'bad') {
        this.dropped++;
        this.buf = this.buf.subarray(2);
        continue;
      }
      if (end === undefined) {
        if (this.buf.length > this.maxFrameBytes) {
          this.dropped++;
          this.buf = this.buf.subarray(2);
          continue;
        }
        return;
      }
      const frame = Buffer.from(this.buf.subarray(0, end)); // a copy: the pipe's chunks are reused
      this.buf = this.buf.subarray(end);
      this.onFrame(frame);
    }
  }

  /** Index just past EOI, undefined when more bytes are needed, 'bad' when this is not a JPEG. */
  private frameEnd(): number | undefined | 'bad' {
    const b = this.buf;
    let i = 2;
    for (;;) {
      if (i + 4 > b.length) return undefined;
      if (b[i] !== 0xff) return 'bad';
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      if (marker === 0xd9) return i + 2;
      if (marker >= 0xd0 && marker <= 0xd7) {
        i += 2;
        continue;
      }
      const len = b.readUInt16BE(i + 2);
      if (len < 2) return 'bad';
      if (marker === 0xda) {
        i += 2 + len;
        break;
      }
      i += 2 + len;
    }
    for (;;) {
      const ff = b.indexOf(0xff, i);
      if (ff < 0 || ff + 1 >= b.length) return undefined;
      const next = b[ff + 1];
      if (next === 0xd9) return ff + 2;
      i = ff + 1;
    }
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
