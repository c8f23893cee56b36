import assert from 'node:assert/strict';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';

/** The response code a client call ends with: SUCCESS when it resolves, the broker's code when it rejects with one. */
export async function brokerCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return ResponseCode.SUCCESS;
  } catch (err) {
    assert.ok(err instanceof MQBrokerError, String(err));
    return err.responseCode;
  }
}
