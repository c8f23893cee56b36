import { encodeJson, type GetBrokerMemberGroupResponseBody } from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { TopicSysFlag } from '../../common/sysflag.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
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
  /** The unit topic lists, switched off with the per-cluster list as upstream (`enableTopicList`). */
  const topicList = (req: RemotingCommand, test: (topicSysFlag: number) => boolean): RemotingCommand =>
    ctx.config.enableTopicList
      ? createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsBySysFlag(test)) })
      : disabled(req, 'enableTopicList');
  return [
    [RequestCode.GET_BROKER_CLUSTER_INFO, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllClusterInfo()) })],
    [RequestCode.GET_BROKER_MEMBER_GROUP, (req) => {
      // A 5.x broker in slave-acting-master mode asks this to learn which members of its group are up.
      const h = decodeGetBrokerMemberGroupHeader(req.extFields);
      const body: GetBrokerMemberGroupResponseBody = { brokerMemberGroup: rim.getBrokerMemberGroup(h.clusterName, h.brokerName) };
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
    }],
    [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) => {
      if (!ctx.config.enableAllTopicList) return disabled(req, 'enableAllTopicList');
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllTopicList()) });
    }],
    [RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
      if (!ctx.config.enableTopicList) return disabled(req, 'enableTopicList');
      const h = decodeGetTopicsByClusterHeader(req.extFields);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsByCluster(h.cluster)) });
    }],
    [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getSystemTopicList()) })],
    [RequestCode.GET_UNIT_TOPIC_LIST, (req) => topicList(req, (f) => (f & TopicSysFlag.FLAG_UNIT) !== 0)],
    [RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, (req) => topicList(req, (f) => (f & TopicSysFlag.FLAG_UNIT_SUB) !== 0)],
    [RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, (req) =>
      topicList(req, (f) => (f & TopicSysFlag.FLAG_UNIT) === 0 && (f & TopicSysFlag.FLAG_UNIT_SUB) !== 0)],
  ];
}

/** Upstream answers a switched-off list with SYSTEM_ERROR "disable"; the rest of the remark says which switch. */
function disabled(req: RemotingCommand, key: 'enableAllTopicList' | 'enableTopicList'): RemotingCommand {
  return createResponse(req, ResponseCode.SYSTEM_ERROR,
    `disable: this NameServer runs with ${key}=false; set it to true (mqadmin updateNamesrvConfig -k ${key} -v true) to answer topic lists`);
}
