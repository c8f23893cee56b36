import { MessageConst, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from '../../common/message-const.js';
import { getProperty } from '../../common/properties.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { encodeReplyMessageRequestHeader, SendResponseExt, type DecodedSendMessageRequestHeader } from '../../remoting/protocol/index.js';
import { tagsCodeOf } from '../message-util.js';
import type { PutMessageInput } from '../../store/message-store.js';
import type { BrokerController } from '../broker-controller.js';
import { decodeSendHeader, putStatusRemark, type SendMessageProcessor } from './send.js';

/** How long the broker waits for the requesting producer to take a pushed reply. */
const PUSH_REPLY_TIMEOUT_MS = 3_000;

/**
 * SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325) (upstream `ReplyMessageProcessor`):
 * a consumer's reply to a request message. The broker pushes it at once to the producer named
 * by REPLY_TO_CLIENT (PUSH_REPLY_MESSAGE_TO_CLIENT on that producer's own connection) and, when
 * `storeReplyMessageEnable`, also stores it in the reply topic. As upstream, the answer's code
 * says whether the push worked; the stored copy only fills in the message id and offset.
 */
export class ReplyMessageProcessor {
  constructor(private readonly broker: BrokerController, private readonly send: SendMessageProcessor) {}

  async process(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    const h = decodeSendHeader(req, req.code === RequestCode.SEND_REPLY_MESSAGE);
    const tc = this.send.check(req, h);
    if (!('topicName' in tc)) return tc;
    const queueId = h.queueId < 0 ? Math.floor(Math.random() * tc.writeQueueNums) : h.queueId;
    const body = req.body ?? Buffer.alloc(0);
    const max = this.broker.storeConfig.maxMessageSize;
    if (body.length > max) {
      return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, `the reply body size ${body.length} is over the max value ${max} (maxMessageSize); reply with a smaller body`);
    }
    const pushError = await this.push(req, conn, h, body);
    let msgId = '0';
    let queueOffset = 0;
    if (this.broker.brokerConfig.storeReplyMessageEnable) {
      const input: PutMessageInput = {
        topic: h.topic, queueId, flag: h.flag, sysFlag: h.sysFlag, bornTimestamp: h.bornTimestamp, bornHost: this.send.bornHost(conn),
        reconsumeTimes: h.reconsumeTimes, preparedTransactionOffset: 0, body, properties: h.properties,
        tagsCode: tagsCodeOf(h.properties), waitStoreMsgOK: true,
      };
      const r = await this.broker.messageStore.putMessage(input);
      if (r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT') {
        msgId = r.msgId;
        queueOffset = r.queueOffset;
      } else {
        // As upstream: a failed store is logged; the answer still says how the push went.
        this.broker.logger.warn(`storing reply message on ${h.topic} failed: ${putStatusRemark(r.status, max)}`);
      }
    }
    if (pushError !== undefined) return createResponse(req, ResponseCode.SYSTEM_ERROR, pushError);
    const res = createResponse(req, ResponseCode.SUCCESS);
    res.binaryExt = new SendResponseExt({
      msgId, queueId, queueOffset, regionId: this.broker.brokerConfig.regionId, traceOn: this.broker.brokerConfig.traceOn,
    });
    return res;
  }

  /** Pushes the reply to its requester; returns why it could not, or undefined once the producer took it. */
  private async push(req: RemotingCommand, conn: Connection, h: DecodedSendMessageRequestHeader, body: Buffer): Promise<string | undefined> {
    const clientId = getProperty(h.properties, MessageConst.REPLY_TO_CLIENT);
    if (!clientId) return `reply message properties[${MessageConst.REPLY_TO_CLIENT}] is null; create the reply from the request message (createReplyMessage)`;
    const channel = this.broker.producerManager.findChannel(clientId);
    if (!channel) {
      const why = `push reply message fail, channel of <${clientId}> not found: the requesting producer is gone or its request timed out`;
      this.broker.logger.warn(why);
      return why;
    }
    let properties = h.properties;
    if (properties.length > 0 && !properties.endsWith(PROPERTY_SEPARATOR)) properties += PROPERTY_SEPARATOR;
    properties += MessageConst.PUSH_REPLY_TIME + NAME_VALUE_SEPARATOR + Date.now() + PROPERTY_SEPARATOR;
    const push = createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, {
      extFields: encodeReplyMessageRequestHeader({
        producerGroup: h.producerGroup, topic: h.topic, defaultTopic: h.defaultTopic, defaultTopicQueueNums: h.defaultTopicQueueNums,
        queueId: h.queueId, sysFlag: h.sysFlag, bornTimestamp: h.bornTimestamp, flag: h.flag, properties, reconsumeTimes: h.reconsumeTimes,
        unitMode: h.unitMode, bornHost: conn.remoteAddress, storeHost: this.broker.address, storeTimestamp: Date.now(),
      }),
      body,
      serializeType: req.serializeType,
      language: 'JAVA',
    });
    try {
      const res = await channel.conn.invoke(push, PUSH_REPLY_TIMEOUT_MS);
      if (res.code === ResponseCode.SUCCESS) return undefined;
      this.broker.logger.warn(`push reply message to <${clientId}> return fail, response remark: ${res.remark ?? ''}`);
    } catch (err) {
      this.broker.logger.warn(`push reply message to <${clientId}> fail: ${(err as Error).message}`);
    }
    return `push reply message to ${clientId} fail.`;
  }
}
