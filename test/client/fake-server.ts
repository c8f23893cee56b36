import { createLogger } from '../../src/common/logger.js';
import { RemotingServer } from '../../src/remoting/server.js';
import type { RequestHandler } from '../../src/remoting/connection.js';

/** A Remoting server on a free local port answering the given codes, for client tests without a broker. */
export interface FakeServer {
  addr: string;
  server: RemotingServer;
  shutdown(): Promise<void>;
}

export async function startFakeServer(handlers: Record<number, RequestHandler>): Promise<FakeServer> {
  const server = new RemotingServer({ port: 0, host: '127.0.0.1', logger: createLogger('fake-server'), idleTimeoutMs: 0 });
  for (const [code, h] of Object.entries(handlers)) server.registerProcessor(Number(code), h);
  await server.start();
  return { addr: `127.0.0.1:${server.port}`, server, shutdown: () => server.shutdown() };
}
