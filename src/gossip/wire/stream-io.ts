import type { Socket } from 'node:net';
import { GossipCodecError } from './errors.ts';
import { type DecodedStream, type StreamDecodeOptions, StreamDecoder } from './stream.ts';

// Reading one message off a TCP connection: memberlist sends exactly one per direction and exchange.

export interface ReadStreamOptions extends StreamDecodeOptions {
  /** Give up when no complete message has arrived after this long (memberlist's TCPTimeout is 10 s). */
  timeoutMs?: number;
}

/**
 * Resolves with the next message on the socket. Rejects with GossipCodecError for bad bytes or a stream
 * that ends early, with the socket's own error if it fails, or with an Error on timeout. The socket is
 * paused afterwards; bytes after the message are not read.
 */
export function readStreamMessage(socket: Socket, options: ReadStreamOptions = {}): Promise<DecodedStream> {
  return new Promise((resolve, reject) => {
    if (socket.readableEnded || socket.destroyed) {
      reject(new GossipCodecError('truncated', 'stream already closed, no message to read'));
      return;
    }
    const decoder = new StreamDecoder(options);
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      clearTimeout(timer);
      socket.pause();
      settle();
    };
    const onData = (chunk: Buffer) => {
      let decoded: DecodedStream | undefined;
      try {
        decoded = decoder.push(chunk);
      } catch (error) {
        finish(() => reject(error));
        return;
      }
      if (decoded) finish(() => resolve(decoded));
    };
    const onEnd = () =>
      finish(() =>
        reject(
          new GossipCodecError('truncated', `stream closed after ${decoder.buffered} bytes, mid-message`),
        ),
      );
    const onError = (error: Error) => finish(() => reject(error));
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(
        () => finish(() => reject(new Error(`no gossip stream message within ${options.timeoutMs} ms`))),
        options.timeoutMs,
      );
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}
