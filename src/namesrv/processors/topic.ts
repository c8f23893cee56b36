import { decodeTopicRouteData } from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse } from '../../remoting/command.js';
import { optString, reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/** Admin and broker changes to topic routes: delete, register one topic, wipe/add write permission. */

export interface DeleteTopicFromNamesrvRequestHeader {
  topic: string;
  /** 5.x: only the brokers of this cluster; absent or empty = everywhere. */
  clusterName?: string;
}

export function decodeDeleteTopicFromNamesrvHeader(ext: Ext): DeleteTopicFromNamesrvRequestHeader {
  const h: DeleteTopicFromNamesrvRequestHeader = { topic: reqString(ext, 'topic') };
  const cluster = optString(ext, 'clusterName');
  if (cluster) h.clusterName = cluster;
  return h;
}

export interface RegisterTopicRequestHeader {
  topic: string;
}

export function decodeRegisterTopicHeader(ext: Ext): RegisterTopicRequestHeader {
  return { topic: reqString(ext, 'topic') };
}

/** Header of WIPE_WRITE_PERM_OF_BROKER and ADD_WRITE_PERM_OF_BROKER. */
export interface WritePermOfBrokerRequestHeader {
  brokerName: string;
}

export function decodeWritePermOfBrokerHeader(ext: Ext): WritePermOfBrokerRequestHeader {
  return { brokerName: reqString(ext, 'brokerName') };
}

export function topicProcessors(ctx: NamesrvContext): ProcessorTable {
  const { routeInfoManager: rim, logger } = ctx;
  return [
    [RequestCode.DELETE_TOPIC_IN_NAMESRV, (req) => {
      const h = decodeDeleteTopicFromNamesrvHeader(req.extFields);
      rim.deleteTopic(h.topic, h.clusterName);
      logger.info(`topic ${h.topic} deleted from the routes${h.clusterName ? ` of cluster ${h.clusterName}` : ''}`);
      return createResponse(req, ResponseCode.SUCCESS);
    }],
    [RequestCode.REGISTER_TOPIC_IN_NAMESRV, (req) => {
      const h = decodeRegisterTopicHeader(req.extFields);
      const queueDatas = req.body && req.body.length > 0 ? decodeTopicRouteData(req.body).queueDatas : [];
      if (!rim.registerTopic(h.topic, queueDatas)) {
        // Upstream logs and answers SUCCESS; the caller only logs the code, so saying why costs nothing.
        return createResponse(req, ResponseCode.SYSTEM_ERROR,
          `register topic ${h.topic}: a broker named in the queue data is not registered with this NameServer; register the broker first`);
      }
      return createResponse(req, ResponseCode.SUCCESS);
    }],
    [RequestCode.WIPE_WRITE_PERM_OF_BROKER, (req, conn) => {
      const h = decodeWritePermOfBrokerHeader(req.extFields);
      const count = rim.wipeWritePermOfBroker(h.brokerName);
      logger.info(`write permission of broker ${h.brokerName} wiped on ${count} topic(s), asked by ${conn.remoteAddress}`);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { wipeTopicCount: count } });
    }],
    [RequestCode.ADD_WRITE_PERM_OF_BROKER, (req, conn) => {
      const h = decodeWritePermOfBrokerHeader(req.extFields);
      const count = rim.addWritePermOfBroker(h.brokerName);
      logger.info(`write permission of broker ${h.brokerName} added on ${count} topic(s), asked by ${conn.remoteAddress}`);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { addTopicCount: count } });
    }],
  ];
}
