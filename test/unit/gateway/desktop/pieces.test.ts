import assert from 'node:assert/strict';
import { Adapter, FrameSender, LEVELS } from '../../../../src/gateway/desktop/frameSender';
import { JpegSplitter } from '../../../../src/gateway/desktop/jpegSplitter';
import { charKeysym, keysymFor } from '../../../../src/gateway/desktop/keysyms';
import { relayUrls } from '../../../../src/gateway/desktop/viewerRelay';
import { ACK_WINDOW, chunkFrame, FRAME_HEADER_BYTES, MAX_CHUNK_BYTES, readFrameHeader } from '../../../../src/protocol/viewer';

/** A minimal JPEG-shaped byte string: SOI, an APP0 segment holding FF D9 bytes, SOS, entropy data with stuffing, EOI. */
function jpeg(fill: number, n = 50): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x06, 0xff, 0xd9, 0x00, 0x00]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x04, 0x01, 0x02]);
  const data = Buffer.alloc(n, fill);
  data[10] = 0xff;
  data[11] = 0x00; // stuffed 0xFF
  data[20] = 0xff;
  data[21] = 0xd3; // a restart marker
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sos, data, Buffer.from([0xff, 0xd9])]);
}

describe('cloud desktop pieces: frame wire, splitter, flow control, keys, relay URLs', () => {
  it('chunks a frame into ≤ 64 KiB messages whose headers reassemble it', () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const msgs = chunkFrame(big, 7, 1000, 1005);
    assert.ok(msgs.every((m) => m.byteLength <= MAX_CHUNK_BYTES));
    const out = new Uint8Array(big.byteLength);
    const per = MAX_CHUNK_BYTES - FRAME_HEADER_BYTES;
    for (const m of msgs) {
      const h = readFrameHeader(m)!;
      assert.deepEqual([h.frameId, h.capturedAt, h.sentAt, h.chunkCount, h.totalBytes], [7, 1000, 1005, msgs.length, big.byteLength]);
      out.set(m.subarray(FRAME_HEADER_BYTES), h.chunkIndex * per);
    }
    assert.deepEqual(out, big);
    assert.equal(readFrameHeader(new Uint8Array(10)), undefined, 'too short');
    const bad = msgs[0].slice();
    bad[0] = 0;
    assert.equal(readFrameHeader(bad), undefined, 'wrong magic');
  });

  it('splits an MJPEG stream on EOI, across chunk boundaries, ignoring FF D9 inside segments and junk', () => {
    const frames: Buffer[] = [];
    const s = new JpegSplitter((f) => frames.push(f));
    const stream = Buffer.concat([Buffer.from('junk'), jpeg(1), jpeg(2), jpeg(3)]);
    for (let i = 0; i < stream.length; i += 7) s.push(stream.subarray(i, i + 7));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[1], jpeg(2));
  });

  it('keeps at most the ack window in flight and drops older frames at the source', () => {
    const sent: Uint8Array[] = [];
    const fs = new FrameSender({ send: (m) => (sent.push(m), true), bufferedAmount: 0 }, () => 0);
    const frame = (n: number) => ({ jpeg: new Uint8Array(100).fill(n), capturedAt: n });
    for (let i = 0; i < 10; i++) fs.offer(frame(i));
    assert.equal(fs.inFlight, ACK_WINDOW);
    assert.equal(fs.stats.sent, ACK_WINDOW);
    assert.equal(fs.stats.dropped, 10 - ACK_WINDOW - 1, 'all but the newest waiting frame were dropped');
    fs.ack(1);
    assert.equal(fs.stats.sent, ACK_WINDOW + 1, 'the newest frame goes out on the ack');
    assert.equal(readFrameHeader(sent[sent.length - 1])!.capturedAt, 9);
    fs.ack(999); // unknown ids are ignored
    assert.equal(fs.stats.acked, 1);
  });

  it('adapts: steps down when the viewer falls behind (drops), not for a slow capture; back up after calm seconds', () => {
    const a = new Adapter();
    for (let i = 0; i < 5; i++) a.update({ offered: 12, dropped: 0, acked: 12, ackRttMs: 30 });
    assert.equal(a.level, 0, 'a slow capture with nothing dropped changes nothing');
    a.update({ offered: 30, dropped: 18, acked: 12, ackRttMs: 100 });
    assert.equal(a.level, 0, 'one bad second is not enough');
    a.update({ offered: 30, dropped: 18, acked: 12, ackRttMs: 100 });
    assert.equal(a.level, 1);
    for (let i = 0; i < 5; i++) a.update({ offered: 30, dropped: 0, acked: LEVELS[1].fps, ackRttMs: 20 });
    assert.equal(a.level, 0);
  });

  it('maps browser keys to keysyms, never passing viewer text through', () => {
    assert.equal(keysymFor('Enter', 'Enter'), 'Return');
    assert.equal(keysymFor('a', 'KeyA'), 'a');
    assert.equal(keysymFor('$', 'Digit4'), 'U0024');
    assert.equal(keysymFor('Control', 'ControlRight'), 'Control_R');
    assert.equal(keysymFor('F5', 'F5'), 'F5');
    assert.equal(keysymFor('Dead', 'Quote'), undefined);
    assert.equal(charKeysym('é'), 'U00E9');
    assert.equal(charKeysym('\u0007'), undefined);
  });

  it('relay mode keeps only TURN over TCP/TLS on 443', () => {
    assert.deepEqual(
      relayUrls([
        'turn:t.example:3478?transport=udp',
        'turn:t.example:443?transport=tcp',
        'turns:t.example:443?transport=tcp',
        'turns:t.example',
        'turn:t.example:443',
      ]),
      ['turn:t.example:443?transport=tcp', 'turns:t.example:443?transport=tcp'],
    );
  });
});
