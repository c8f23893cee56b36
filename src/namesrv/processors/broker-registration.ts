import { crc32 } from 'node:zlib';
import {
  decodeDataVersion,
  decodeRegisterBrokerBody,
  encodeJson,
  NAMESPACE_ORDER_TOPIC_CONFIG,
  type DataVersion,
  type RegisterBrokerBody,
} from '../../common/route.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse } from '../../remoting/command.js';
import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/**
 * The broker side of the registry (upstream `DefaultRequestProcessor`): REGISTER_BROKER every
 * 30 s, UNREGISTER_BROKER on shutdown, QUERY_DATA_VERSION to skip unchanged registrations,
 * BROKER_HEARTBEAT to stay alive between registrations.
 */

export interface RegisterBrokerRequestHeader {
  brokerName: string;
  brokerAddr: string;
  clusterName: string;
  /** `brokerIP2:haListenPort`; empty for a broker without HA. */
  haServerAddr: string;
  brokerId: number;
  heartbeatTimeoutMillis?: number;
  enableActingMaster?: boolean;
  compressed: boolean;
  /** CRC32 & 0x7FFFFFFF of the body; 0 = not checked. */
  bodyCrc32: number;
  /** Extra key `__ZONE_NAME` (upstream `MixAll.ZONE_NAME`), not a header field. */
  zoneName?: string;
}

export function decodeRegisterBrokerHeader(ext: Ext): RegisterBrokerRequestHeader {
  const h: RegisterBrokerRequestHeader = {
    brokerName: reqString(ext, 'brokerName'),
    brokerAddr: reqString(ext, 'brokerAddr'),
    clusterName: reqString(ext, 'clusterName'),
    haServerAddr: optString(ext, 'haServerAddr') ?? '',
    brokerId: reqNumber(ext, 'brokerId'),
    compressed: optBoolean(ext, 'compressed') ?? false,
    bodyCrc32: optNumber(ext, 'bodyCrc32') ?? 0,
  };
  const timeout = optNumber(ext, 'heartbeatTimeoutMillis');
  if (timeout !== undefined) h.heartbeatTimeoutMillis = timeout;
  const acting = optBoolean(ext, 'enableActingMaster');
  if (acting !== undefined) h.enableActingMaster = acting;
  const zone = optString(ext, '__ZONE_NAME');
  if (zone !== undefined) h.zoneName = zone;
  return h;
}

/** Header of UNREGISTER_BROKER and QUERY_DATA_VERSION (same four fields upstream). */
export interface BrokerIdentityHeader {
  brokerName: string;
  brokerAddr: string;
  clusterName: string;
  brokerId: number;
}

export function decodeUnregisterBrokerHeader(ext: Ext): BrokerIdentityHeader {
  return {
    brokerName: reqString(ext, 'brokerName'),
    brokerAddr: reqString(ext, 'brokerAddr'),
    clusterName: reqString(ext, 'clusterName'),
    brokerId: reqNumber(ext, 'brokerId'),
  };
}

/**
 * Header of BROKER_HEARTBEAT (upstream `BrokerHeartbeatRequestHeader`). Its other fields (epoch,
 * offsets, election priority) are for the controller; the NameServer only needs who is alive.
 */
export interface BrokerHeartbeatRequestHeader {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId?: number;
}

export function decodeBrokerHeartbeatHeader(ext: Ext): BrokerHeartbeatRequestHeader {
  const h: BrokerHeartbeatRequestHeader = {
    clusterName: reqString(ext, 'clusterName'),
    brokerAddr: reqString(ext, 'brokerAddr'),
    brokerName: reqString(ext, 'brokerName'),
  };
  const id = optNumber(ext, 'brokerId');
  if (id !== undefined) h.brokerId = id;
  return h;
}

export const decodeQueryDataVersionHeader: (ext: Ext) => BrokerIdentityHeader = decodeUnregisterBrokerHeader;

/** CRC as upstream `UtilAll.crc32`: the CRC32 with the sign bit cleared. */
export function bodyCrc32(body: Buffer | undefined): number {
  return body && body.length > 0 ? (crc32(body) & 0x7fffffff) : 0;
}

/**
 * zlib stream header (CMF 0x78 + FCHECK). A JSON body starts with '{', so this tells the two
 * apart; needed because upstream main's broker compresses yet sends `compressed=false`.
 */
function looksDeflated(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x78 && ((body[0] << 8) | (body[1] as number)) % 31 === 0;
}

function emptyRegisterBody(): RegisterBrokerBody {
  return { topicConfigSerializeWrapper: { topicConfigTable: {}, dataVersion: { stateVersion: 0, timestamp: 0, counter: 0 } }, filterServerList: [] };
}

export function brokerRegistrationProcessors(ctx: NamesrvContext): ProcessorTable {
  const { routeInfoManager: rim, kvConfigManager: kv, logger } = ctx;
  return [
    [RequestCode.REGISTER_BROKER, (req, conn) => {
      const h = decodeRegisterBrokerHeader(req.extFields);
      if (h.bodyCrc32 !== 0 && bodyCrc32(req.body) !== h.bodyCrc32) {
        logger.warn(`register broker ${h.brokerName} from ${conn.remoteAddress}: body crc32 does not match the header's`);
        return createResponse(req, ResponseCode.SYSTEM_ERROR, 'crc32 not match');
      }
      const body = req.body && req.body.length > 0
        ? decodeRegisterBrokerBody(req.body, h.compressed || looksDeflated(req.body))
        : emptyRegisterBody();
      const result = rim.registerBroker({
        clusterName: h.clusterName,
        brokerAddr: h.brokerAddr,
        brokerName: h.brokerName,
        brokerId: h.brokerId,
        haServerAddr: h.haServerAddr,
        zoneName: h.zoneName,
        heartbeatTimeoutMillis: h.heartbeatTimeoutMillis,
        enableActingMaster: h.enableActingMaster,
        topicConfigWrapper: body.topicConfigSerializeWrapper,
        filterServerList: body.filterServerList,
        channel: conn,
      });
      // Upstream `returnOrderTopicConfigToBroker` (default true): the broker learns the order configs.
      const orderConf = ctx.config.returnOrderTopicConfigToBroker ? kv.getKVListByNamespace(NAMESPACE_ORDER_TOPIC_CONFIG) : undefined;
      return createResponse(req, ResponseCode.SUCCESS, undefined, {
        extFields: { haServerAddr: result.haServerAddr, masterAddr: result.masterAddr },
        body: orderConf ? encodeJson({ table: orderConf }) : undefined,
      });
    }],
    [RequestCode.UNREGISTER_BROKER, (req) => {
      const h = decodeUnregisterBrokerHeader(req.extFields);
      rim.unregisterBroker(h.clusterName, h.brokerAddr, h.brokerName, h.brokerId);
      return createResponse(req, ResponseCode.SUCCESS);
    }],
    [RequestCode.BROKER_HEARTBEAT, (req) => {
      // A broker in slave-acting-master mode registers every 30 s but with a 10 s expiry
      // (`brokerNotActiveTimeoutMillis`), and beats every second in between; as upstream, the beat
      // only refreshes the liveness of an address that registered (an unknown one is ignored).
      const h = decodeBrokerHeartbeatHeader(req.extFields);
      rim.updateBrokerInfoUpdateTimestamp(h.clusterName, h.brokerAddr);
      return createResponse(req, ResponseCode.SUCCESS);
    }],
    [RequestCode.QUERY_DATA_VERSION, (req) => {
      const h = decodeQueryDataVersionHeader(req.extFields);
      const theirs: DataVersion | undefined = req.body && req.body.length > 0 ? decodeDataVersion(req.body) : undefined;
      const changed = rim.isBrokerTopicConfigChanged(h.clusterName, h.brokerAddr, theirs);
      // Upstream counts the query as a heartbeat: a broker that skips registering stays alive.
      rim.updateBrokerInfoUpdateTimestamp(h.clusterName, h.brokerAddr);
      const ours = rim.queryBrokerTopicConfig(h.clusterName, h.brokerAddr);
      return createResponse(req, ResponseCode.SUCCESS, undefined, {
        extFields: { changed },
        body: ours ? encodeJson(ours) : undefined,
      });
    }],
  ];
}
