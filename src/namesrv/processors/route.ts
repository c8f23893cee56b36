import { encodeJson, NAMESPACE_ORDER_TOPIC_CONFIG, type TopicRouteData } from '../../common/route.js';
import { isInherited, PermName } from '../../common/perm.js';
import { SystemTopic, validateTopic } from '../../common/topic.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse } from '../../remoting/command.js';
import { optBoolean, reqString, type Ext } from '../../remoting/header.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/** Upstream `FAQUrl.APPLY_TOPIC_URL`. */
const FAQ_URL = 'https://rocketmq.apache.org/docs/bestPractice/06FAQ';

export interface GetRouteInfoRequestHeader {
  topic: string;
  /**
   * Asks for quoted map keys (upstream sends standard JSON only to requesters ≥ V4_9_4 or with
   * this flag). This server always writes standard JSON, so the flag changes nothing here.
   */
  acceptStandardJsonOnly?: boolean;
}

export function decodeGetRouteInfoHeader(ext: Ext): GetRouteInfoRequestHeader {
  const h: GetRouteInfoRequestHeader = { topic: reqString(ext, 'topic') };
  const std = optBoolean(ext, 'acceptStandardJsonOnly');
  if (std !== undefined) h.acceptStandardJsonOnly = std;
  return h;
}

/**
 * Clients older than V4_0_0 (ali-ons reports V3_4_9 = 121) treat TOPIC_NOT_EXIST as fatal and never
 * fall back to the auto-create template themselves, so they could never send to a new topic.
 * For them an unknown, valid topic is answered with the TBW102 route (when a broker offers it
 * with the inherit bit, i.e. autoCreateTopicEnable), cut to the producer default of 4 queues;
 * their send then carries defaultTopic=TBW102 and the broker creates the topic, as upstream.
 */
const VERSION_V4_0_0 = 213;
const DEFAULT_TOPIC_QUEUE_NUMS = 4;

function autoCreateRoute(ctx: NamesrvContext, topic: string): TopicRouteData | undefined {
  // Retry and dead-letter topics are created by the broker with their own queue counts, never by a send.
  if (validateTopic(topic) !== null || topic.startsWith('%')) return undefined;
  const tmpl = ctx.routeInfoManager.pickupTopicRouteData(SystemTopic.AUTO_CREATE_TOPIC_KEY);
  if (!tmpl) return undefined;
  const queueDatas = tmpl.queueDatas.filter((qd) => isInherited(qd.perm)).map((qd) => {
    const n = Math.min(DEFAULT_TOPIC_QUEUE_NUMS, qd.writeQueueNums);
    return { ...qd, readQueueNums: n, writeQueueNums: n, perm: qd.perm & ~PermName.PERM_INHERIT };
  });
  if (queueDatas.length === 0) return undefined;
  const names = new Set(queueDatas.map((qd) => qd.brokerName));
  return { ...tmpl, queueDatas, brokerDatas: tmpl.brokerDatas.filter((bd) => names.has(bd.brokerName)) };
}

/** The client side of the registry (upstream `ClientRequestProcessor`): GET_ROUTEINFO_BY_TOPIC. */
export function routeProcessors(ctx: NamesrvContext): ProcessorTable {
  return [
    [RequestCode.GET_ROUTEINFO_BY_TOPIC, (req, conn) => {
      const h = decodeGetRouteInfoHeader(req.extFields);
      // Upstream `needWaitForService`: right after a restart the registry is empty until every broker
      // has registered again (up to 30 s), and a client told TOPIC_NOT_EXIST might give up or fall back
      // to auto-creation; on SYSTEM_ERROR it keeps the route it has and asks again later.
      const { needWaitForService, waitSecondsForService } = ctx.config;
      if (needWaitForService && ctx.now() - ctx.startupTimeMillis < waitSecondsForService * 1000) {
        return createResponse(req, ResponseCode.SYSTEM_ERROR,
          `name server not ready: it started less than waitSecondsForService=${waitSecondsForService} s ago and waits for the brokers to register`);
      }
      const route: TopicRouteData | undefined = ctx.routeInfoManager.pickupTopicRouteData(h.topic)
        ?? (req.version < VERSION_V4_0_0 ? autoCreateRoute(ctx, h.topic) : undefined);
      if (!route) {
        // The prefix is upstream's text; the rest says what to check.
        return createResponse(req, ResponseCode.TOPIC_NOT_EXIST,
          `No topic route info in name server for the topic: ${h.topic}, is a broker hosting it registered with this NameServer (${conn.localAddress})? `
          + `Create the topic on a broker (or enable autoCreateTopicEnable there) and check the broker's namesrvAddr. See ${FAQ_URL} for further details.`);
      }
      if (ctx.config.orderMessageEnable) {
        const conf = ctx.kvConfigManager.getKVConfig(NAMESPACE_ORDER_TOPIC_CONFIG, h.topic);
        if (conf !== undefined) route.orderTopicConf = conf;
      }
      return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(route) });
    }],
  ];
}
