import { encodeJson } from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse } from '../../remoting/command.js';
import { reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/** Admin views of the registry: cluster info and topic lists. */

export interface GetTopicsByClusterRequestHeader {
  cluster: string;
}

export function decodeGetTopicsByClusterHeader(ext: Ext): GetTopicsByClusterRequestHeader {
  return { cluster: reqString(ext, 'cluster') };
}

export function clusterProcessors(ctx: NamesrvContext): ProcessorTable {
  const rim = ctx.routeInfoManager;
  return [
    [RequestCode.GET_BROKER_CLUSTER_INFO, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllClusterInfo()) })],
    [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getAllTopicList()) })],
    [RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
      const h = decodeGetTopicsByClusterHeader(req.extFields);
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(rim.getTopicsByCluster(h.cluster)) });
    }],
  ];
}
