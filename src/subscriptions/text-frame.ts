/**
 * One unmasked, unfragmented, uncompressed WebSocket text frame (RFC 6455 §5.2) holding `head`
 * then `tail`: what a server sends (servers never mask), as the buffers to write in order.
 * Built by hand so a message whose tail is shared by thousands of sockets costs one small
 * allocation per socket (Buffer.allocUnsafe takes it from Node's pool under 4 KiB) and one
 * write, where ws's `send` makes a header buffer, option objects and a two-buffer writev.
 * A tail over COPY_LIMIT is not copied: the frame is then [header and head, tail], one writev,
 * and every socket's frame points at the same tail bytes.
 */
export function textFrame(head: Buffer, tail: Buffer): Buffer[] {
  const headBytes = head.length;
  const length = headBytes + tail.length;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const copyTail = tail.length <= COPY_LIMIT;
  const frame = Buffer.allocUnsafe(headerBytes + headBytes + (copyTail ? tail.length : 0));
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (headerBytes === 2) {
    frame[1] = length;
  } else if (headerBytes === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  head.copy(frame, headerBytes);
  if (!copyTail) return [frame, tail];
  tail.copy(frame, headerBytes + headBytes);
  return [frame];
}

/** Up to here, copying the tail costs less than a second buffer in the write. */
const COPY_LIMIT = 16 * 1024;
