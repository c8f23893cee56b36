import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { defaultBrokerConfig } from '../../src/common/config.js';
import { AuthMetadataStore } from '../../src/broker/auth/auth-metadata-store.js';
import { AuthPipeline } from '../../src/broker/auth/auth-pipeline.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { signRequest } from '../../src/remoting/acl-signature.js';
import type { Connection } from '../../src/remoting/connection.js';
import { tempDir } from '../helpers/tmp.js';

// The auth pipeline on its own (no sockets): the stateful strategies' per-connection verdicts.

const APP = { accessKey: 'app', secretKey: 'app-pw' };

function setup(): { pipeline: AuthPipeline; store: AuthMetadataStore; conn: Connection; now: { t: number }; cleanup: () => void } {
  const { dir, cleanup } = tempDir('rmq-auth-pipeline-');
  const store = new AuthMetadataStore(dir, pino({ level: 'silent' }));
  store.createUser({ username: APP.accessKey, password: APP.secretKey });
  store.putAcl({ subject: 'User:app', policies: [{ policyType: 'Custom', entries: [{ resource: { type: 'Topic', name: 't', pattern: 'PREFIXED' }, actions: ['Get'], decision: 'Allow' }] }] });
  const cfg = {
    ...defaultBrokerConfig(), authenticationEnabled: true, authorizationEnabled: true,
    authenticationStrategy: 'StatefulAuthenticationStrategy', authorizationStrategy: 'org.apache.rocketmq.auth.authorization.strategy.StatefulAuthorizationStrategy',
  };
  const now = { t: 1_000_000 };
  const pipeline = new AuthPipeline(cfg, store, pino({ level: 'silent' }), () => now.t);
  const conn = { attrs: {}, remoteAddress: '127.0.0.1:5555' } as unknown as Connection;
  return { pipeline, store, conn, now, cleanup };
}

function maxOffset(topic: string) {
  const req = createRequest(RequestCode.GET_MAX_OFFSET, { extFields: { topic, queueId: 0 } });
  signRequest(req, APP);
  return req;
}

test('stateful authorization keeps a verdict for statefulAuthorizationCacheExpiredSecond, then checks again', () => {
  const { pipeline, store, conn, now, cleanup } = setup();
  try {
    assert.equal(pipeline.handle(maxOffset('t1'), conn), null);
    store.deleteAcl('User:app', undefined, undefined);
    assert.equal(pipeline.handle(maxOffset('t1'), conn), null, 'the allowed verdict is kept');
    now.t += 61_000;
    assert.equal(pipeline.handle(maxOffset('t1'), conn)?.code, ResponseCode.NO_PERMISSION, 'checked again once expired');
  } finally {
    cleanup();
  }
});

test('a connection keeps at most 1000 verdicts', () => {
  const { pipeline, conn, cleanup } = setup();
  try {
    for (let i = 0; i < 1500; i++) assert.equal(pipeline.handle(maxOffset(`t${i}`), conn), null);
    const size = (conn.attrs.authVerdicts as Map<string, unknown>).size;
    assert.ok(size <= 1000, `${size} verdicts kept`);
  } finally {
    cleanup();
  }
});
