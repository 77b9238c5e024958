/**
 * A TCP proxy in front of a real Kafka broker that can lose the answer to a produce request
 * the broker did write: the ambiguous failure a broker crash or a network cut causes, made
 * deterministic. The broker must advertise the proxy's port (startLocalBroker's
 * `advertisedPort`), so clients reach it only through here. Kafka frames are an int32 size
 * and a body; a request body starts with int16 api key, int16 version, int32 correlation id,
 * a response body with the int32 correlation id.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

const PRODUCE = 0;

export interface KafkaFaultProxy {
  port: number;
  /**
   * The next produce request reaches the broker; its response never reaches the client.
   * With `thenCut`, the response's arrival also closes every connection and refuses new ones
   * until `restore()`: the broker gone right after writing.
   */
  swallowNextProduceResponse(options?: { thenCut?: boolean }): void;
  restore(): void;
  /** Produce responses swallowed so far. */
  swallowed(): number;
  close(): Promise<void>;
}

/** Splits a byte stream into whole Kafka frames. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) return;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

export async function startKafkaFaultProxy(brokerPort: number, port = 0): Promise<KafkaFaultProxy> {
  let armed = false;
  let cutAfterSwallow = false;
  let cut = false;
  let swallowedCount = 0;
  const sockets = new Set<Socket>();
  const cutAll = () => {
    cut = true;
    for (const socket of sockets) socket.destroy();
  };
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const broker = connect(brokerPort, '127.0.0.1');
    sockets.add(client).add(broker);
    const doomed = new Set<number>();
    client.on(
      'data',
      framer((frame) => {
        if (armed && frame.readInt16BE(4) === PRODUCE) {
          armed = false;
          doomed.add(frame.readInt32BE(8));
        }
        broker.write(frame);
      }),
    );
    broker.on(
      'data',
      framer((frame) => {
        if (!doomed.delete(frame.readInt32BE(4))) {
          client.write(frame);
          return;
        }
        swallowedCount += 1;
        if (cutAfterSwallow) cutAll();
      }),
    );
    const end = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on('close', end).on('error', end);
    broker.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the Kafka fault proxy has no TCP port');
  return {
    port: address.port,
    swallowNextProduceResponse: (options = {}) => {
      armed = true;
      cutAfterSwallow = options.thenCut ?? false;
    },
    restore: () => {
      cut = false;
    },
    swallowed: () => swallowedCount,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
