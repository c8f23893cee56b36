import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerError, GO_AWAY, isRetriable, MQClientError, ClientErrorCode } from '../../src/client/errors.js';
import { createResponse, createRequest } from '../../src/remoting/command.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { MQBrokerError, RemotingConnectError, RemotingTimeoutError } from '../../src/remoting/errors.js';

function errFor(code: number): MQBrokerError {
  return brokerError(createResponse(createRequest(310), code, 'remark'), '127.0.0.1:10911');
}

test('broker codes the producer retries map to retriable errors', () => {
  for (const code of [ResponseCode.TOPIC_NOT_EXIST, ResponseCode.SERVICE_NOT_AVAILABLE, ResponseCode.SYSTEM_ERROR, ResponseCode.SYSTEM_BUSY,
    ResponseCode.NO_PERMISSION, ResponseCode.NO_BUYER_ID, ResponseCode.NOT_IN_CURRENT_UNIT, GO_AWAY]) {
    const e = errFor(code);
    assert.equal(e.responseCode, code);
    assert.equal(e.retriable, true, `code ${code}`);
    assert.equal(isRetriable(e), true);
  }
});

test('other broker codes are final', () => {
  for (const code of [ResponseCode.MESSAGE_ILLEGAL, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ResponseCode.VERSION_NOT_SUPPORTED,
    ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, ResponseCode.QUERY_NOT_FOUND, ResponseCode.TRANSACTION_FAILED]) {
    const e = errFor(code);
    assert.equal(e.retriable, false, `code ${code}`);
    assert.equal(isRetriable(e), false);
    assert.match(e.message, /remark/);
  }
});

test('connection-level failures are retriable; client-side argument errors and unknown errors are not', () => {
  assert.equal(isRetriable(new RemotingConnectError('127.0.0.1:1')), true);
  assert.equal(isRetriable(new RemotingTimeoutError('127.0.0.1:1', 10, 310)), true);
  assert.equal(isRetriable(new MQClientError('bad', ClientErrorCode.MESSAGE_ILLEGAL)), false);
  assert.equal(isRetriable(new Error('x')), false);
  assert.equal(isRetriable('x'), false);
});
