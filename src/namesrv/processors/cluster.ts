import { encodeJson, type GetBrokerMemberGroupResponseBody } from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { TopicSysFlag } from '../../common/sysflag.js';
import { createResponse } from '../../remoting/command.js';
import { reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/** Admin views of the registry: cluster info, broker member groups and topic lists. */

export interface GetTopicsByClusterRequestHeader {
  cluster: string;
}

export function decodeGetTopicsByClusterHeader(ext: Ext): GetTopicsByClusterRequestHeader {
  return { cluster: reqString(ext, 'cluster') };
}

export interface GetBrokerMemberGroupRequestHeader {
  clusterName: string;
  brokerName: string;
}

export function decodeGetBrokerMemberGroupHeader(ext: Ext): GetBrokerMemberGroupRequestHeader {
  return { clusterName: reqString(ext, 'clusterName'), brokerName: reqString(ext, 'brokerName') };
}

export function clusterProcessors(ctx: NamesrvContext): ProcessorTable {
  const rim = ctx.routeInfoManager;
  return [
    [RequestCode.GET_BROKER_CLUSTER_INFO, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllClusterInfo()) })],
    [RequestCode.GET_BROKER_MEMBER_GROUP, (req) => {
      // A 5.x broker in slave-acting-master mode asks this to learn which members of its group are up.
      const h = decodeGetBrokerMemberGroupHeader(req.extFields);
      const body: GetBrokerMemberGroupResponseBody = { brokerMemberGroup: rim.getBrokerMemberGroup(h.clusterName, h.brokerName) };
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
    }],
    [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllTopicList()) })],
    [RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
      const h = decodeGetTopicsByClusterHeader(req.extFields);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsByCluster(h.cluster)) });
    }],
    [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getSystemTopicList()) })],
    [RequestCode.GET_UNIT_TOPIC_LIST, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsBySysFlag((f) => (f & TopicSysFlag.FLAG_UNIT) !== 0)) })],
    [RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsBySysFlag((f) => (f & TopicSysFlag.FLAG_UNIT_SUB) !== 0)) })],
    [RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, {
        body: encodeJson(rim.getTopicsBySysFlag((f) => (f & TopicSysFlag.FLAG_UNIT) === 0 && (f & TopicSysFlag.FLAG_UNIT_SUB) !== 0)),
      })],
  ];
}
