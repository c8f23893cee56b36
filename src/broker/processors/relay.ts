import { RemotingTimeoutError } from '../../remoting/errors.js';
import { RequestCode, ResponseCode, SerializeType } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqString } from '../../remoting/header.js';
import { decodeOffsetMessageId } from '../../common/message-id.js';
import { encodeJson, parseLenientJson } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * How long the broker waits for a client's answer to a relayed request. Shorter than the
 * admin's usual 5 s timeout so the caller gets the broker's explanation, not its own timeout.
 */
export const RELAY_TIMEOUT_MS = 3000;

/**
 * GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309) (upstream
 * `AdminBrokerProcessor.callConsumer`): the request goes on to the client's own channel, found
 * in the consumer manager by clientId, and the client's answer comes back as the response.
 */
export class RelayProcessor {
  constructor(private readonly broker: BrokerController, private readonly timeoutMs = RELAY_TIMEOUT_MS) {}

  getConsumerRunningInfo(req: RemotingCommand): Promise<RemotingCommand> {
    return this.callConsumer(req, req.body);
  }

  async consumeMessageDirectly(req: RemotingCommand): Promise<RemotingCommand> {
    const msgId = reqString(req.extFields, 'msgId');
    let commitLogOffset: number;
    try {
      commitLogOffset = decodeOffsetMessageId(msgId).commitLogOffset;
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    const rec = this.broker.messageStore.lookMessageByOffset(commitLogOffset);
    if (!rec) return createResponse(req, ResponseCode.SYSTEM_ERROR, `can not find message by the msgId ${msgId} (commitlog offset ${commitLogOffset}) on broker ${this.broker.brokerConfig.brokerName}`);
    // The client gets the stored record as body and the broker's name to rebuild the queue.
    if (!optString(req.extFields, 'brokerName')) req.extFields = { ...(req.extFields ?? {}), brokerName: this.broker.brokerConfig.brokerName };
    return this.callConsumer(req, rec);
  }

  /**
   * INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223, upstream `Broker2Client.getConsumeStatus`): asks
   * each online consumer of `group` (or only `clientAddr`, a client id) for its offsets on `topic`
   * with GET_CONSUMER_STATUS_FROM_CLIENT (221), and answers GetConsumerStatusBody
   * `{consumerTable: {<clientId>: {<MQ>: offset}}}`. A client that does not answer is left out.
   */
  async getConsumerStatus(req: RemotingCommand): Promise<RemotingCommand> {
    const topic = reqString(req.extFields, 'topic');
    const group = reqString(req.extFields, 'group');
    const only = optString(req.extFields, 'clientAddr');
    const channels = [...this.broker.consumerManager.get(group)?.channels.values() ?? []].filter((c) => !c.conn.isClosed);
    if (channels.length === 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, `No Any Consumer online in the consumer group: [${group}]`);
    const consumerTable: Record<string, unknown> = {};
    await Promise.all(channels.filter((c) => !only || c.clientId === only).map(async (c) => {
      const ask = createRequest(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, { extFields: { topic, group }, serializeType: SerializeType.JSON, language: 'JAVA' });
      try {
        const res = await c.conn.invoke(ask, this.timeoutMs);
        if (res.code !== ResponseCode.SUCCESS || !res.body) return;
        const body = parseLenientJson(res.body) as { messageQueueTable?: unknown };
        consumerTable[c.clientId] = body.messageQueueTable ?? {};
      } catch (err) {
        this.broker.logger.warn(`[get-consumer-status] consumer ${c.clientId} of group ${group} did not answer: ${(err as Error).message}`);
      }
    }));
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ consumerTable }) });
  }

  private async callConsumer(req: RemotingCommand, body: Buffer | undefined): Promise<RemotingCommand> {
    const group = reqString(req.extFields, 'consumerGroup');
    const clientId = reqString(req.extFields, 'clientId');
    const info = this.broker.consumerManager.get(group)?.findChannel(clientId);
    if (!info || info.conn.isClosed) return createResponse(req, ResponseCode.SYSTEM_ERROR, `The Consumer <${group}> <${clientId}> not online`);
    const fwd = createRequest(req.code, { extFields: req.extFields, body, serializeType: SerializeType.JSON, language: 'JAVA' });
    let res: RemotingCommand;
    try {
      res = await info.conn.invoke(fwd, this.timeoutMs);
    } catch (err) {
      const why = err instanceof RemotingTimeoutError
        ? `the client did not answer within ${this.timeoutMs} ms (it may not support request code ${req.code})`
        : (err as Error).message;
      this.broker.logger.warn(`relaying request ${req.code} to consumer ${clientId} of group ${group} failed: ${why}`);
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `invoke consumer <${group}> <${clientId}> failed: ${why}`);
    }
    return createResponse(req, res.code, res.remark, { extFields: res.extFields, body: res.body });
  }
}
