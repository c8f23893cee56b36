import {
  status as GrpcStatus, type Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream,
} from '@grpc/grpc-js';
import { gunzipSync } from 'node:zlib';
import type { Logger } from '../common/logger.js';
import { MessageConst } from '../common/message-const.js';
import { decodeOffsetMessageId } from '../common/message-id.js';
import { decodeRecord } from '../common/message-record.js';
import { MessageSysFlag } from '../common/sysflag.js';
import { isSysConsumerGroup } from '../common/subscription-group.js';
import { isNotAllowedSendTopic, isSystemTopic, SYSTEM_TOPIC_PREFIX, SystemTopic, validateGroup, validateTopic } from '../common/topic.js';
import { javaStringHashCode } from '../common/java.js';
import { isReadable, isWriteable } from '../common/perm.js';
import { ResponseCode } from '../remoting/codes.js';
import { Authenticator, type ProxyAuth } from './authentication.js';
import type { TelemetryStream } from './grpc-client-channel.js';
import { GrpcClientManager } from './grpc-client-manager.js';
import { fromGrpcMessage, propertiesString, ProxyProp, stripNamespace, toGrpcMessage, wrapNamespace } from './message-converter.js';
import type { MessagingProcessor, TopicMessageType, TopicRouteView } from './messaging-processor.js';
import { Code, D, durationMs, durationOf, protoFullName, S, TELEMETRY_COMMAND_NAME, timestampOf, type CodeValue, type df, type IMessagingServiceServer, type sv } from './proto.js';
import { MAX_MSG_NUMS_FOR_POP_REQUEST, type ProxyConfig } from './proxy-config.js';
import { decodeReceiptHandle, encodeReceiptHandle, nextVisibleTime } from './receipt-handle.js';
import { codeOfRemoting, okStatus, ProxyError, status, statusOfError } from './status.js';
import { decodeTransactionId, encodeTransactionId } from './transaction-id.js';

/** The request context every RPC starts from (upstream `ProxyContext` from the gRPC headers). */
interface Ctx {
  clientId: string;
  namespace?: string;
  peer: string;
  language: string;
  /** The signer of the request, when it was signed. */
  accessKey?: string;
}

const ALL_TYPES = [D.MessageType.NORMAL, D.MessageType.FIFO, D.MessageType.DELAY, D.MessageType.TRANSACTION];

/** The message types a topic accepts (upstream `TopicMessageType` → route `accept_message_types`). */
export function acceptedTypes(t: TopicMessageType | undefined): number[] {
  switch (t) {
    case 'NORMAL': return [D.MessageType.NORMAL];
    case 'FIFO': return [D.MessageType.FIFO];
    case 'DELAY': return [D.MessageType.DELAY];
    case 'TRANSACTION': return [D.MessageType.TRANSACTION];
    // MIXED, and a topic without `message.type` (created by Remoting tools): every type.
    default: return ALL_TYPES;
  }
}

const TYPE_NAMES: Record<number, string> = { 1: 'NORMAL', 2: 'FIFO', 3: 'DELAY', 4: 'TRANSACTION', 5: 'LITE', 6: 'PRIORITY' };

export interface GrpcApplicationOptions {
  config: ProxyConfig;
  processor: MessagingProcessor;
  logger: Logger;
  /** The proxy's own endpoint (host and port), for routes when the client did not say what it dialled. */
  selfEndpoint: () => { host: string; port: number };
  /** The broker name used when a request does not name one. */
  defaultBrokerName: () => string;
  /** Users, ACLs and auth switches: the broker's in a standalone, the brokers' (cached) in cluster mode. */
  auth?: ProxyAuth;
}

/**
 * The `apache.rocketmq.v2.MessagingService` handlers (upstream `GrpcMessagingApplication` and
 * its activities): validation, the mapping of each RPC onto broker operations, and statuses
 * in the body as upstream returns them.
 */
export class GrpcMessagingApplication {
  readonly clients: GrpcClientManager;
  private readonly config: ProxyConfig;
  private readonly processor: MessagingProcessor;
  private readonly logger: Logger;
  private readonly auth: Authenticator;
  private readonly receives = new Set<AbortController>();
  private readonly telemetryStreams = new Set<TelemetryStream>();
  private queueRotation = 0;
  private stopped = false;

  constructor(private readonly opts: GrpcApplicationOptions) {
    this.config = opts.config;
    this.processor = opts.processor;
    this.logger = opts.logger;
    this.auth = new Authenticator(opts.config.acl?.accounts ?? [], opts.auth);
    this.clients = new GrpcClientManager(opts.processor, opts.defaultBrokerName, opts.logger);
    this.processor.setClientAlive((id) => this.clients.isAlive(id));
  }

  /** Ends every long poll and Telemetry stream (server shutdown). */
  stop(): void {
    this.stopped = true;
    for (const ac of this.receives) ac.abort();
    for (const s of this.telemetryStreams) {
      try {
        s.end();
      } catch {
        // gone
      }
    }
    this.telemetryStreams.clear();
    this.clients.closeAll();
  }

  /** The handler object for `server.addService(MessagingServiceService, …)`. */
  service(): IMessagingServiceServer {
    const unimplemented = (_call: unknown, cb: sendUnaryData<never>): void => cb({ code: GrpcStatus.UNIMPLEMENTED, details: "this RPC is not served by the proxy, as upstream's proxy does not serve it" }, null);
    const impl: IMessagingServiceServer = {
      queryRoute: (call, cb) => this.unary(call, cb, () => new S.QueryRouteResponse(), (ctx, req) => this.queryRoute(ctx, req)),
      heartbeat: (call, cb) => this.unary(call, cb, () => new S.HeartbeatResponse(), (ctx, req) => this.heartbeat(ctx, req)),
      sendMessage: (call, cb) => this.unary(call, cb, () => new S.SendMessageResponse(), (ctx, req) => this.sendMessage(ctx, req)),
      queryAssignment: (call, cb) => this.unary(call, cb, () => new S.QueryAssignmentResponse(), (ctx, req) => this.queryAssignment(ctx, req)),
      receiveMessage: (call) => void this.receiveMessage(call),
      ackMessage: (call, cb) => this.unary(call, cb, () => new S.AckMessageResponse(), (ctx, req) => this.ackMessage(ctx, req)),
      forwardMessageToDeadLetterQueue: (call, cb) => this.unary(call, cb, () => new S.ForwardMessageToDeadLetterQueueResponse(), (ctx, req) => this.forwardToDLQ(ctx, req)),
      pullMessage: (call) => call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: "PullMessage is not served by the proxy, as upstream's proxy does not serve it: use ReceiveMessage" }),
      updateOffset: unimplemented,
      getOffset: unimplemented,
      queryOffset: unimplemented,
      endTransaction: (call, cb) => this.unary(call, cb, () => new S.EndTransactionResponse(), (ctx, req) => this.endTransaction(ctx, req)),
      telemetry: (call) => this.telemetry(call),
      notifyClientTermination: (call, cb) => this.unary(call, cb, () => new S.NotifyClientTerminationResponse(), (ctx, req) => this.notifyClientTermination(ctx, req)),
      changeInvisibleDuration: (call, cb) => this.unary(call, cb, () => new S.ChangeInvisibleDurationResponse(), (ctx, req) => this.changeInvisibleDuration(ctx, req)),
      recallMessage: (call, cb) => this.unary(call, cb, () => new S.RecallMessageResponse(), (ctx, req) => this.recallMessage(ctx, req)),
      syncLiteSubscription: unimplemented,
    };
    return impl;
  }

  // ---- plumbing ----

  /** The request's context, once its signature is checked and, with `request`, its access to what it names. */
  private async context(md: Metadata, peer: string, request?: unknown, rpcCode = protoFullName(request)): Promise<Ctx> {
    const accessKey = await this.auth.check(md, rpcCode);
    const clientId = header(md, 'x-mq-client-id');
    if (!clientId) throw new ProxyError(Code.CLIENT_ID_REQUIRED, 'the x-mq-client-id header is required');
    const ctx: Ctx = { clientId, namespace: header(md, 'x-mq-namespace') || undefined, peer: peerAddress(peer), language: header(md, 'x-mq-language') ?? 'JAVA' };
    if (accessKey !== undefined) ctx.accessKey = accessKey;
    if (request !== undefined) await this.auth.authorize(accessKey, ctx.peer, request);
    return ctx;
  }

  /** Runs a unary RPC: every outcome, errors included, is a response with a status. */
  private unary<Req, Res extends { setStatus(s?: df.Status): Res }>(
    call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>, make: () => Res, fn: (ctx: Ctx, req: Req) => Promise<Res> | Res,
  ): void {
    const run = async (): Promise<Res> => {
      const ctx = await this.context(call.metadata, call.getPeer(), call.request);
      this.clients.touch(ctx.clientId);
      return fn(ctx, call.request);
    };
    run().then((res) => cb(null, res), (err: unknown) => {
      if (!(err instanceof ProxyError)) this.logger.error({ err }, 'gRPC request failed');
      cb(null, make().setStatus(statusOfError(err)));
    });
  }

  private topicOf(r: df.Resource | undefined, ctx: Ctx): string {
    const name = r?.getName() ?? '';
    const topic = wrapNamespace(name, r?.getResourceNamespace() || ctx.namespace);
    const bad = validateTopic(topic);
    if (bad) throw new ProxyError(Code.ILLEGAL_TOPIC, bad);
    // As upstream GrpcValidator: no RPC of a 5.x client reaches a system topic (TBW102, the
    // transaction half topics, rmq_sys_…) — not a route, not a receive, not an ack.
    if (isSystemTopic(name)) throw new ProxyError(Code.ILLEGAL_TOPIC, `cannot access system topic ${name}`);
    return topic;
  }

  private groupOf(r: df.Resource | undefined, ctx: Ctx): string {
    const group = wrapNamespace(r?.getName() ?? '', r?.getResourceNamespace() || ctx.namespace);
    const bad = validateGroup(group);
    if (bad) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, bad);
    // As upstream GrpcValidator: the broker's own groups (CID_RMQ_SYS_…) are not for clients.
    const name = r?.getName() ?? '';
    if (isSysConsumerGroup(name)) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, `cannot use system consumer group ${name}`);
    return group;
  }

  private async route(topic: string): Promise<TopicRouteView> {
    const view = await this.processor.topicRoute(topic);
    if (!view || view.brokers.length === 0) {
      throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${topic} does not exist; create it first (mqadmin updateTopic -t ${topic} -a +message.type=NORMAL)`);
    }
    return view;
  }

  private async group(group: string): Promise<{ consumeMessageOrderly: boolean; retryMaxTimes: number; consumeEnable: boolean }> {
    const g = await this.processor.groupConfig(group);
    if (!g) throw new ProxyError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${group} does not exist; create it with mqadmin updateSubGroup -g ${group}`);
    return g;
  }

  private endpointsFor(req: { getEndpoints(): df.Endpoints | undefined }): df.Endpoints {
    const given = req.getEndpoints();
    if (given && given.getAddressesList().length > 0) return given;
    const self = this.opts.selfEndpoint();
    const e = new D.Endpoints();
    e.setScheme(self.host.includes(':') ? D.AddressScheme.IPV6 : /^[\d.]+$/.test(self.host) ? D.AddressScheme.IPV4 : D.AddressScheme.DOMAIN_NAME);
    const a = new D.Address();
    a.setHost(self.host);
    a.setPort(self.port);
    e.setAddressesList([a]);
    return e;
  }

  private messageQueue(topic: string, ns: string | undefined, id: number, perm: number, brokerName: string, endpoints: df.Endpoints, types: number[]): df.MessageQueue {
    const mq = new D.MessageQueue();
    const r = new D.Resource();
    r.setName(stripNamespace(topic, ns));
    if (ns) r.setResourceNamespace(ns);
    mq.setTopic(r);
    mq.setId(id);
    mq.setPermission(perm);
    const b = new D.Broker();
    b.setName(brokerName);
    b.setId(0);
    b.setEndpoints(endpoints);
    mq.setBroker(b);
    mq.setAcceptMessageTypesList(types);
    return mq;
  }

  // ---- QueryRoute, Heartbeat, NotifyClientTermination, QueryAssignment ----

  private async queryRoute(ctx: Ctx, req: sv.QueryRouteRequest): Promise<sv.QueryRouteResponse> {
    const topic = this.topicOf(req.getTopic(), ctx);
    const view = await this.route(topic);
    const endpoints = this.endpointsFor(req);
    const types = acceptedTypes(view.messageType);
    const ns = req.getTopic()?.getResourceNamespace() || ctx.namespace;
    const queues: df.MessageQueue[] = [];
    for (const b of view.brokers) {
      // Queue i is readable below readQueueNums and writable below writeQueueNums (the topic's own numbering).
      const n = Math.max(b.readQueueNums, b.writeQueueNums);
      const r = isReadable(b.perm);
      const w = isWriteable(b.perm);
      for (let i = 0; i < n; i++) {
        const perm = grpcPermission(r && i < b.readQueueNums, w && i < b.writeQueueNums);
        queues.push(this.messageQueue(topic, ns, i, perm, b.brokerName, endpoints, types));
      }
    }
    const res = new S.QueryRouteResponse();
    res.setStatus(okStatus());
    res.setMessageQueuesList(queues);
    return res;
  }

  private heartbeat(ctx: Ctx, _req: sv.HeartbeatRequest): sv.HeartbeatResponse {
    if (!this.clients.heartbeat(ctx.clientId)) {
      throw new ProxyError(Code.UNRECOGNIZED_CLIENT_TYPE, 'no settings from this client yet: open the Telemetry stream and send settings first');
    }
    return new S.HeartbeatResponse().setStatus(okStatus());
  }

  private notifyClientTermination(ctx: Ctx, _req: sv.NotifyClientTerminationRequest): sv.NotifyClientTerminationResponse {
    this.clients.terminate(ctx.clientId);
    return new S.NotifyClientTerminationResponse().setStatus(okStatus());
  }

  private async queryAssignment(ctx: Ctx, req: sv.QueryAssignmentRequest): Promise<sv.QueryAssignmentResponse> {
    const topic = this.topicOf(req.getTopic(), ctx);
    const group = this.groupOf(req.getGroup(), ctx);
    const view = await this.route(topic);
    const { consumeMessageOrderly } = await this.group(group);
    const endpoints = this.endpointsFor(req);
    const ns = req.getTopic()?.getResourceNamespace() || ctx.namespace;
    const types = acceptedTypes(view.messageType);
    const assignments: df.Assignment[] = [];
    for (const b of view.brokers) {
      if (!isReadable(b.perm) || b.readQueueNums <= 0) continue;
      const perm = grpcPermission(isReadable(b.perm), isWriteable(b.perm));
      // As upstream RouteActivity.queryAssignment: a FIFO group gets one assignment per readable
      // queue, so a push consumer runs as many ordered receive loops as there are queues; any other
      // group one per broker with queue id −1 — a receive pops every queue of that broker.
      const ids = consumeMessageOrderly ? Array.from({ length: b.readQueueNums }, (_, i) => i) : [-1];
      for (const id of ids) {
        const a = new D.Assignment();
        a.setMessageQueue(this.messageQueue(topic, ns, id, perm, b.brokerName, endpoints, types));
        assignments.push(a);
      }
    }
    if (assignments.length === 0) throw new ProxyError(Code.FORBIDDEN, `no readable queue of topic ${topic}`);
    const res = new S.QueryAssignmentResponse();
    res.setStatus(okStatus());
    res.setAssignmentsList(assignments);
    return res;
  }

  // ---- Telemetry ----

  private telemetry(call: TelemetryStream): void {
    void this.openTelemetry(call);
  }

  private async openTelemetry(call: TelemetryStream): Promise<void> {
    let ctx: Ctx;
    try {
      // Commands wait in the stream meanwhile: it does not flow before the 'data' listener below.
      // Upstream authenticates each TelemetryCommand as it comes: the stream is whitelisted by that name.
      ctx = await this.context(call.metadata, call.getPeer(), undefined, TELEMETRY_COMMAND_NAME);
    } catch (err) {
      if (!(err instanceof ProxyError)) this.logger.error({ err }, 'gRPC Telemetry failed');
      const tc = new S.TelemetryCommand();
      tc.setStatus(statusOfError(err));
      call.write(tc);
      call.end();
      return;
    }
    if (this.stopped || call.cancelled) {
      call.end();
      return;
    }
    this.telemetryStreams.add(call);
    const done = (): void => {
      this.telemetryStreams.delete(call);
      this.clients.onStreamEnd(ctx.clientId, call);
    };
    // One command after the other, as they came: a settings command may wait for its authorization.
    let previous = Promise.resolve();
    call.on('data', (cmd: sv.TelemetryCommand) => {
      previous = previous.then(() => this.onTelemetryCommand(ctx, call, cmd)).catch((err: unknown) => {
        this.logger.warn(`Telemetry command of client ${ctx.clientId} failed: ${(err as Error).message}`);
      });
    });
    call.on('end', () => {
      done();
      try {
        call.end();
      } catch {
        // closed already
      }
      this.logger.debug(`Telemetry stream of client ${ctx.clientId} ended by the client`);
    });
    call.on('error', () => done());
    call.on('cancelled', () => done());
  }

  private async onTelemetryCommand(ctx: Ctx, call: TelemetryStream, cmd: sv.TelemetryCommand): Promise<void> {
    const C = S.TelemetryCommand.CommandCase;
    switch (cmd.getCommandCase()) {
      case C.SETTINGS: {
        const settings = cmd.getSettings()!;
        const pubSub = settings.getPubSubCase();
        if (pubSub === D.Settings.PubSubCase.PUB_SUB_NOT_SET) {
          call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: 'settings carry neither publishing nor subscription' });
          return;
        }
        const ct = settings.getClientType();
        if (ct !== D.ClientType.PRODUCER && ct !== D.ClientType.PUSH_CONSUMER && ct !== D.ClientType.SIMPLE_CONSUMER) {
          const tc = new S.TelemetryCommand();
          tc.setStatus(status(Code.UNRECOGNIZED_CLIENT_TYPE, `client type ${ct ?? 'none'} is not supported`));
          call.write(tc);
          return;
        }
        // As upstream's AuthorizationPipeline: the settings' topics and group need Pub or Sub.
        try {
          await this.auth.authorize(ctx.accessKey, ctx.peer, cmd);
        } catch (err) {
          const tc = new S.TelemetryCommand();
          tc.setStatus(statusOfError(err));
          call.write(tc);
          return;
        }
        // As upstream ClientActivity.processAndWriteClientSettings: the publishing topics and the
        // subscription group are validated as on every RPC before the client is registered under
        // them; a bad one fails the stream with INVALID_ARGUMENT.
        try {
          if (pubSub === D.Settings.PubSubCase.PUBLISHING) for (const t of settings.getPublishing()!.getTopicsList()) this.topicOf(t, ctx);
          else this.groupOf(settings.getSubscription()!.getGroup(), ctx);
        } catch (err) {
          call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: `process client telemetryCommand failed. ${(err as Error).message}` });
          return;
        }
        this.clients.onSettings(ctx.clientId, ctx.peer, ctx.namespace, settings, call);
        void this.settingsReply(settings, ctx).then((reply) => {
          const tc = new S.TelemetryCommand();
          tc.setStatus(okStatus());
          tc.setSettings(reply);
          call.write(tc);
        }, (err: unknown) => {
          const tc = new S.TelemetryCommand();
          tc.setStatus(statusOfError(err));
          call.write(tc);
        });
        return;
      }
      case C.THREAD_STACK_TRACE: {
        const t = cmd.getThreadStackTrace()!;
        this.clients.get(ctx.clientId)?.channel.onReply(t.getNonce(), cmd.getStatus(), t.getThreadStackTrace());
        return;
      }
      case C.VERIFY_MESSAGE_RESULT:
        this.clients.get(ctx.clientId)?.channel.onReply(cmd.getVerifyMessageResult()!.getNonce(), cmd.getStatus());
        return;
      case C.VERIFY_MESSAGE_COMMAND:
        // rocketmq-client-nodejs answers a VerifyMessageCommand with the command itself (NOT_IMPLEMENTED).
        this.clients.get(ctx.clientId)?.channel.onReply(cmd.getVerifyMessageCommand()!.getNonce(), cmd.getStatus());
        return;
      default:
        return;
    }
  }

  /**
   * The settings the server pushes back (upstream `GrpcClientSettingsManager`): the client's own,
   * plus the retry policy, body size limit and type check for producers, and FIFO flag, batch
   * size, long polling and the group's retry policy for consumers. The Node client understands
   * only an exponential policy, so the group's is given in that form.
   */
  private async settingsReply(clientSettings: df.Settings, ctx: Ctx): Promise<df.Settings> {
    const s = clientSettings.cloneMessage() as df.Settings;
    const policy = new D.RetryPolicy();
    const exp = new D.ExponentialBackoff();
    if (s.getPubSubCase() === D.Settings.PubSubCase.PUBLISHING) {
      policy.setMaxAttempts(3);
      exp.setInitial(durationOf(10));
      exp.setMax(durationOf(1000));
      exp.setMultiplier(2);
      const pub = s.getPublishing()!;
      pub.setMaxBodySize(this.maxBodySize());
      pub.setValidateMessageType(this.config.enableTopicMessageTypeCheck);
    } else {
      const sub = s.getSubscription()!;
      let fifo = false;
      let retryMaxTimes = 16;
      const g = sub.getGroup();
      if (g) {
        const cfg = await this.processor.groupConfig(wrapNamespace(g.getName(), g.getResourceNamespace() || ctx.namespace));
        if (cfg) {
          fifo = cfg.consumeMessageOrderly;
          retryMaxTimes = cfg.retryMaxTimes;
        }
      }
      sub.setFifo(fifo);
      sub.setReceiveBatchSize(this.config.maxReceiveBatchSize);
      sub.setLongPollingTimeout(durationOf(this.config.maxLongPollingTimeoutMillis));
      policy.setMaxAttempts(retryMaxTimes + 1);
      exp.setInitial(durationOf(1000));
      exp.setMax(durationOf(7200_000));
      exp.setMultiplier(2);
    }
    policy.setExponentialBackoff(exp);
    s.setBackoffPolicy(policy);
    const metric = new D.Metric();
    metric.setOn(false);
    s.setMetric(metric);
    return s;
  }

  private maxBodySize(): number {
    const broker = this.processor.maxMessageSize();
    return this.config.maxMessageSize > 0 ? Math.min(this.config.maxMessageSize, broker) : broker;
  }

  // ---- SendMessage ----

  private async sendMessage(ctx: Ctx, req: sv.SendMessageRequest): Promise<sv.SendMessageResponse> {
    const msgs = req.getMessagesList();
    // As upstream SendMessageActivity: a request without messages, or whose messages name
    // different topics, is corrupt as a whole.
    if (msgs.length === 0) throw new ProxyError(Code.MESSAGE_CORRUPTED, 'no message to send');
    const first = msgs[0]!.getTopic();
    for (const m of msgs) {
      const t = m.getTopic();
      if ((t?.getName() ?? '') !== (first?.getName() ?? '') || (t?.getResourceNamespace() ?? '') !== (first?.getResourceNamespace() ?? '')) {
        throw new ProxyError(Code.MESSAGE_CORRUPTED, 'topic in message is not same');
      }
    }
    const channel = this.clients.get(ctx.clientId)?.channel;
    const entries: sv.SendResultEntry[] = [];
    for (const m of msgs) {
      const entry = new S.SendResultEntry();
      try {
        await this.sendOne(ctx, m, entry, channel);
      } catch (err) {
        if (!(err instanceof ProxyError)) this.logger.error({ err }, 'gRPC send failed');
        entry.setStatus(statusOfError(err));
        entry.setMessageId(m.getSystemProperties()?.getMessageId() ?? '');
      }
      entries.push(entry);
    }
    const res = new S.SendMessageResponse();
    res.setEntriesList(entries);
    res.setStatus(commonStatus(entries.map((e) => e.getStatus()!)));
    return res;
  }

  private async sendOne(ctx: Ctx, m: df.Message, entry: sv.SendResultEntry, channel: import('./grpc-client-channel.js').GrpcClientChannel | undefined): Promise<void> {
    const topic = this.topicOf(m.getTopic(), ctx);
    if (isNotAllowedSendTopic(topic) || topic === SystemTopic.AUTO_CREATE_TOPIC_KEY || topic.startsWith(SYSTEM_TOPIC_PREFIX)) {
      throw new ProxyError(Code.ILLEGAL_TOPIC, `cannot send to system topic ${topic}`);
    }
    const out = fromGrpcMessage(m, topic, this.config);
    if (out.body.length === 0) throw new ProxyError(Code.MESSAGE_BODY_EMPTY, 'the message body is empty');
    const max = this.maxBodySize();
    if (out.body.length > max) throw new ProxyError(Code.MESSAGE_BODY_TOO_LARGE, `the message body is ${out.body.length} bytes, over the limit of ${max}`);
    if (m.getSystemProperties()!.getBodyEncoding() === D.Encoding.GZIP) out.body = gunzipBody(out.body, max);
    // As upstream buildMessageProperty: a message that does not say where it was born was born
    // at the client's address, not at the proxy (which is what a broker would otherwise record).
    if (!out.properties.get(ProxyProp.BORN_HOST)?.trim()) out.properties.set(ProxyProp.BORN_HOST, ctx.peer);
    const view = await this.route(topic);
    const MT = D.MessageType;
    const type = out.messageType;
    if (type === MT.FIFO && out.messageGroup === undefined) throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, 'a FIFO message needs a message group');
    if (type === MT.DELAY && out.deliveryTimestamp === undefined) throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, 'a DELAY message needs a delivery timestamp');
    if (type === MT.TRANSACTION && (out.messageGroup !== undefined || out.deliveryTimestamp !== undefined)) {
      throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, 'a TRANSACTION message cannot have a message group or a delivery timestamp');
    }
    if (this.config.enableTopicMessageTypeCheck && !acceptedTypes(view.messageType).includes(type)) {
      throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
        `topic ${topic} accepts ${view.messageType ?? 'any'} messages, not ${TYPE_NAMES[type] ?? type}; send another type or change the topic's message.type attribute`);
    }
    let sysFlag = 0;
    if (type === MT.TRANSACTION) {
      out.properties.set(MessageConst.TRANSACTION_PREPARED, 'true');
      out.properties.set(MessageConst.PRODUCER_GROUP, topic);
      sysFlag = MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    }
    if (out.deliveryTimestamp !== undefined) this.applyDelivery(out.deliveryTimestamp, out.properties);
    const writable = view.brokers.filter((b) => isWriteable(b.perm) && b.writeQueueNums > 0);
    if (writable.length === 0) throw new ProxyError(Code.FORBIDDEN, `topic ${topic} has no writable queue`);
    // As upstream: the client's queue id is ignored; a message group always lands on the same queue.
    let broker = writable[0]!;
    let queueId: number;
    if (out.messageGroup !== undefined) {
      const h = Math.abs(javaStringHashCode(out.messageGroup));
      const total = writable.reduce((n, b) => n + b.writeQueueNums, 0);
      let idx = h % total;
      for (const b of writable) {
        if (idx < b.writeQueueNums) { broker = b; break; }
        idx -= b.writeQueueNums;
      }
      queueId = idx;
    } else {
      const total = writable.reduce((n, b) => n + b.writeQueueNums, 0);
      let idx = this.queueRotation++ % total;
      for (const b of writable) {
        if (idx < b.writeQueueNums) { broker = b; break; }
        idx -= b.writeQueueNums;
      }
      queueId = idx;
    }
    if (!channel) throw new ProxyError(Code.UNRECOGNIZED_CLIENT_TYPE, 'no settings from this client yet: open the Telemetry stream and send settings first');
    const r = await this.processor.sendMessage({
      brokerName: broker.brokerName, topic, queueId, producerGroup: topic, sysFlag, bornTimestamp: out.bornTimestamp,
      properties: propertiesString(out.properties), body: out.body, channel,
    });
    entry.setMessageId(out.messageId);
    if (r.code !== ResponseCode.SUCCESS) {
      const code = r.code === ResponseCode.MESSAGE_ILLEGAL && /body size/.test(r.remark ?? '') ? Code.MESSAGE_BODY_TOO_LARGE : codeOfRemoting(r.code);
      entry.setStatus(status(code, r.remark ?? `send failed with broker code ${r.code}`));
      if (code !== Code.MASTER_PERSISTENCE_TIMEOUT && code !== Code.SLAVE_PERSISTENCE_TIMEOUT) return;
    } else {
      entry.setStatus(okStatus());
    }
    entry.setOffset(r.queueOffset ?? 0);
    if (r.recallHandle) entry.setRecallHandle(r.recallHandle);
    if (type === MT.TRANSACTION && r.msgId) {
      entry.setTransactionId(encodeTransactionId({
        brokerName: broker.brokerName, commitLogOffset: decodeOffsetMessageId(r.msgId).commitLogOffset,
        tranStateTableOffset: r.queueOffset ?? 0, brokerTransactionId: out.messageId,
      }));
    }
  }

  /**
   * A delivery timestamp: TIMER_DELIVER_MS for the broker's timer wheel, or — when the timer is
   * off — the first delay level not shorter than the wait, so it never arrives early.
   */
  private applyDelivery(ts: number, props: Map<string, string>): void {
    const now = Date.now();
    if (ts - now > this.config.maxDelayTimeMills) {
      throw new ProxyError(Code.ILLEGAL_DELIVERY_TIME, `the delivery time ${new Date(ts).toISOString()} is more than ${this.config.maxDelayTimeMills} ms ahead (maxDelayTimeMills)`);
    }
    if (ts <= now) return; // due already: an ordinary message
    props.set(ProxyProp.START_DELIVER_TIME, String(ts));
    if (this.processor.timerEnabled()) {
      props.set(MessageConst.TIMER_DELIVER_MS, String(ts));
      return;
    }
    const levels = this.processor.delayLevels();
    const wait = ts - now;
    let level = levels.findIndex((d) => d >= wait) + 1;
    if (level <= 0) level = levels.length;
    props.set(MessageConst.DELAY_TIME_LEVEL, String(level));
  }

  // ---- EndTransaction, RecallMessage ----

  private async endTransaction(ctx: Ctx, req: sv.EndTransactionRequest): Promise<sv.EndTransactionResponse> {
    const topic = this.topicOf(req.getTopic(), ctx);
    const raw = req.getTransactionId();
    if (!raw) throw new ProxyError(Code.INVALID_TRANSACTION_ID, 'transaction id cannot be empty');
    const tx = decodeTransactionId(raw);
    if (!tx) throw new ProxyError(Code.INVALID_TRANSACTION_ID, `transaction id "${raw}" is not one this proxy issued`);
    const res = new S.EndTransactionResponse();
    const resolution = req.getResolution();
    let commitOrRollback: number;
    if (resolution === D.TransactionResolution.COMMIT) commitOrRollback = MessageSysFlag.TRANSACTION_COMMIT_TYPE;
    else if (resolution === D.TransactionResolution.ROLLBACK) commitOrRollback = MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
    else return res.setStatus(okStatus()); // unknown: the half stays and is checked back
    const r = await this.processor.endTransaction(tx.brokerName, {
      producerGroup: topic, tranStateTableOffset: tx.tranStateTableOffset, commitLogOffset: tx.commitLogOffset, commitOrRollback,
      fromTransactionCheck: req.getSource() === D.TransactionSource.SOURCE_SERVER_CHECK, msgId: req.getMessageId(), transactionId: tx.brokerTransactionId,
    });
    // Past the half's check immunity time only a check answer ends it (ILLEGAL_OPERATION): the
    // check-back will ask this producer, so nothing is lost — upstream's proxy, which ends
    // transactions oneway, answers OK here too.
    if (r.code !== ResponseCode.SUCCESS && r.code !== ResponseCode.ILLEGAL_OPERATION) return res.setStatus(status(codeOfRemoting(r.code), r.remark ?? 'end transaction failed'));
    return res.setStatus(okStatus());
  }

  private async recallMessage(ctx: Ctx, req: sv.RecallMessageRequest): Promise<sv.RecallMessageResponse> {
    const topic = this.topicOf(req.getTopic(), ctx);
    const handle = req.getRecallHandle();
    if (!handle) throw new ProxyError(Code.BAD_REQUEST, 'recall handle cannot be empty');
    const channel = this.clients.get(ctx.clientId)?.channel;
    if (!channel) throw new ProxyError(Code.UNRECOGNIZED_CLIENT_TYPE, 'no settings from this client yet: open the Telemetry stream and send settings first');
    const r = await this.processor.recallMessage(topic, handle, channel);
    const res = new S.RecallMessageResponse();
    if (r.code !== ResponseCode.SUCCESS) {
      const code = r.code === ResponseCode.ILLEGAL_OPERATION ? Code.BAD_REQUEST : codeOfRemoting(r.code);
      return res.setStatus(status(code, r.remark ?? 'recall failed'));
    }
    res.setMessageId(r.messageId ?? '');
    return res.setStatus(okStatus());
  }

  // ---- ReceiveMessage ----

  private async receiveMessage(call: ServerWritableStream<sv.ReceiveMessageRequest, sv.ReceiveMessageResponse>): Promise<void> {
    const ac = new AbortController();
    this.receives.add(ac);
    const onCancel = (): void => ac.abort();
    call.on('cancelled', onCancel);
    const frames: sv.ReceiveMessageResponse[] = [];
    try {
      const ctx = await this.context(call.metadata, call.getPeer(), call.request);
      this.clients.touch(ctx.clientId);
      const result = await this.receive(ctx, call.request, deadlineOf(call.getDeadline()), ac.signal);
      const st = new S.ReceiveMessageResponse();
      st.setStatus(result.status);
      frames.push(st);
      for (const m of result.messages) frames.push(new S.ReceiveMessageResponse().setMessage(m));
    } catch (err) {
      if (!(err instanceof ProxyError)) this.logger.error({ err }, 'gRPC receive failed');
      frames.push(new S.ReceiveMessageResponse().setStatus(statusOfError(err)));
    } finally {
      this.receives.delete(ac);
      call.removeListener('cancelled', onCancel);
    }
    frames.push(new S.ReceiveMessageResponse().setDeliveryTimestamp(timestampOf(Date.now())));
    if (call.cancelled) return;
    for (const f of frames) call.write(f);
    call.end();
  }

  private async receive(ctx: Ctx, req: sv.ReceiveMessageRequest, deadline: number, signal: AbortSignal): Promise<{ status: df.Status; messages: df.Message[] }> {
    const group = this.groupOf(req.getGroup(), ctx);
    const mq = req.getMessageQueue();
    if (!mq) throw new ProxyError(Code.BAD_REQUEST, 'message_queue is required');
    const ns = mq.getTopic()?.getResourceNamespace() || ctx.namespace;
    const topic = this.topicOf(mq.getTopic(), ctx);
    const fe = req.getFilterExpression();
    const filter = { type: fe?.getType() === D.FilterType.SQL ? 'SQL92' as const : 'TAG' as const, expression: fe?.getExpression() || '*' };
    if (filter.type === 'TAG' && filter.expression.trim() === '') filter.expression = '*';
    const cfg = await this.group(group);
    await this.route(topic);
    const autoRenew = req.getAutoRenew();
    let invisible: number;
    if (autoRenew) {
      invisible = this.config.defaultInvisibleTimeMills;
    } else {
      if (!req.hasInvisibleDuration()) throw new ProxyError(Code.ILLEGAL_INVISIBLE_TIME, 'invisible_duration is required unless auto_renew is set');
      invisible = durationMs(req.getInvisibleDuration());
      if (invisible < this.config.minInvisibleTimeMillsForRecv || invisible > this.config.maxInvisibleTimeMills) {
        throw new ProxyError(Code.ILLEGAL_INVISIBLE_TIME,
          `the invisible time ${invisible} ms is out of range [${this.config.minInvisibleTimeMillsForRecv}, ${this.config.maxInvisibleTimeMills}]`);
      }
    }
    const batch = req.getBatchSize();
    if (batch <= 0) throw new ProxyError(Code.BAD_REQUEST, `batch_size must be positive, not ${batch}`);
    const remaining = deadline - Date.now();
    let poll = req.hasLongPollingTimeout() ? durationMs(req.getLongPollingTimeout()) : Math.min(this.config.maxLongPollingTimeoutMillis, remaining / 2);
    poll = Math.min(Math.max(poll, this.config.minLongPollingTimeoutMillis), this.config.maxLongPollingTimeoutMillis);
    // Leave time for the answer to reach the client before its deadline (up to a second).
    poll = Math.max(0, Math.min(poll, remaining - Math.min(1000, remaining / 4)));
    const brokerName = mq.getBroker()?.getName() || this.opts.defaultBrokerName();
    const r = await this.processor.popMessage(brokerName, {
      group, topic, maxMsgNums: Math.min(batch, this.config.maxReceiveBatchSize, MAX_MSG_NUMS_FOR_POP_REQUEST), invisibleTime: invisible, filter,
      order: cfg.consumeMessageOrderly, attemptId: req.getAttemptId() || undefined, pollTime: poll, maxAttempts: cfg.retryMaxTimes + 1,
      renewFor: autoRenew ? ctx.clientId : undefined, signal,
    });
    switch (r.status) {
      case 'FOUND': {
        const messages = r.messages.map((p) => {
          const ext = decodeRecord(p.record);
          const handle = encodeReceiptHandle({ ...p.extraInfo, commitLogOffset: p.commitLogOffset });
          return toGrpcMessage(ext, { topic, namespace: ns, receiptHandle: handle, deliveryAttempt: p.deliveryAttempt });
        });
        return { status: okStatus(), messages };
      }
      case 'NO_MESSAGE': return { status: status(Code.MESSAGE_NOT_FOUND, 'no new message'), messages: [] };
      case 'POLLING_FULL': return { status: status(Code.TOO_MANY_REQUESTS, 'polling full'), messages: [] };
      default: return { status: status(codeOfRemoting(r.code), r.remark), messages: [] };
    }
  }

  // ---- AckMessage, ChangeInvisibleDuration, ForwardMessageToDeadLetterQueue ----

  private async ackMessage(ctx: Ctx, req: sv.AckMessageRequest): Promise<sv.AckMessageResponse> {
    const group = this.groupOf(req.getGroup(), ctx);
    const topic = this.topicOf(req.getTopic(), ctx);
    const entries = req.getEntriesList();
    if (entries.length === 0) throw new ProxyError(Code.BAD_REQUEST, 'the request carries no entry');
    const results: sv.AckMessageResultEntry[] = [];
    for (const e of entries) {
      const out = new S.AckMessageResultEntry();
      out.setMessageId(e.getMessageId());
      out.setReceiptHandle(e.getReceiptHandle());
      const h = decodeReceiptHandle(e.getReceiptHandle());
      if (!h) {
        out.setStatus(status(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is malformed'));
      } else {
        const r = await this.processor.ackMessage(h.brokerName, group, topic, h);
        if (r.status === 'OK' || r.status === 'NOT_FOUND') out.setStatus(okStatus());
        else if (r.status === 'EXPIRED') out.setStatus(status(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is expired'));
        else out.setStatus(status(Code.INTERNAL_SERVER_ERROR, r.remark));
      }
      results.push(out);
    }
    const res = new S.AckMessageResponse();
    res.setEntriesList(results);
    res.setStatus(commonStatus(results.map((r) => r.getStatus()!)));
    return res;
  }

  private async changeInvisibleDuration(ctx: Ctx, req: sv.ChangeInvisibleDurationRequest): Promise<sv.ChangeInvisibleDurationResponse> {
    const group = this.groupOf(req.getGroup(), ctx);
    const topic = this.topicOf(req.getTopic(), ctx);
    const h = decodeReceiptHandle(req.getReceiptHandle());
    if (!h) throw new ProxyError(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is malformed');
    const ms = durationMs(req.getInvisibleDuration());
    if (!req.hasInvisibleDuration() || ms < 0 || ms > this.config.maxInvisibleTimeMills) {
      throw new ProxyError(Code.ILLEGAL_INVISIBLE_TIME, `the invisible time must be within [0, ${this.config.maxInvisibleTimeMills}] ms`);
    }
    const r = await this.processor.changeInvisibleTime(h.brokerName, group, topic, h, ms);
    const res = new S.ChangeInvisibleDurationResponse();
    if (r.status !== 'OK' || !r.extraInfo) {
      const expired = r.status === 'EXPIRED' || nextVisibleTime(h) <= Date.now();
      return res.setStatus(status(Code.INVALID_RECEIPT_HANDLE, expired ? 'receipt handle is expired' : ('remark' in r ? r.remark : 'receipt handle is not valid')));
    }
    res.setReceiptHandle(encodeReceiptHandle({ ...r.extraInfo, commitLogOffset: h.commitLogOffset }));
    return res.setStatus(okStatus());
  }

  private async forwardToDLQ(ctx: Ctx, req: sv.ForwardMessageToDeadLetterQueueRequest): Promise<sv.ForwardMessageToDeadLetterQueueResponse> {
    const group = this.groupOf(req.getGroup(), ctx);
    const topic = this.topicOf(req.getTopic(), ctx);
    const h = decodeReceiptHandle(req.getReceiptHandle());
    if (!h) throw new ProxyError(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is malformed');
    // As upstream ForwardMessageToDLQActivity: the receipt is no longer renewed from here on, so no
    // renewal retires the handle while the message moves; a failed forward leaves it to come back.
    const newest = await this.processor.removeReceiptHandle(h.brokerName, group, topic, h);
    const r = await this.processor.forwardToDeadLetterQueue(h.brokerName, group, h.commitLogOffset, topic, req.getMessageId());
    const res = new S.ForwardMessageToDeadLetterQueueResponse();
    if (r.code !== ResponseCode.SUCCESS) return res.setStatus(status(codeOfRemoting(r.code), r.remark ?? 'forward to DLQ failed'));
    // As upstream: once the message is in the DLQ, its receipt is acked (with the newest handle).
    await this.processor.ackMessage(h.brokerName, group, topic, newest);
    return res.setStatus(okStatus());
  }
}

/**
 * A body the client sent gzip-compressed (body_encoding GZIP; upstream stores it with the
 * COMPRESSED flag). Stored inflated here, so Remoting consumers — whose decompression is zlib —
 * and gRPC consumers alike read the original bytes. At most `max` bytes come out.
 */
function gunzipBody(body: Buffer, max: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: max });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ProxyError(Code.MESSAGE_BODY_TOO_LARGE, `the message body inflates to more than the limit of ${max} bytes`);
    }
    throw new ProxyError(Code.MESSAGE_CORRUPTED, `the message body is not gzip data, though its body_encoding says GZIP: ${(err as Error).message}`);
  }
}

/** A queue's readability and writability as the gRPC `Permission` (upstream `RouteActivity.convertToPermission`). */
function grpcPermission(readable: boolean, writable: boolean): number {
  return readable && writable ? D.Permission.READ_WRITE : readable ? D.Permission.READ : writable ? D.Permission.WRITE : D.Permission.NONE;
}

/** The status of a multi-entry answer: the common code, or MULTIPLE_RESULTS (upstream). */
function commonStatus(list: df.Status[]): df.Status {
  if (list.length === 0) return okStatus();
  const first = list[0]!.getCode() as CodeValue;
  if (list.every((s) => s.getCode() === first)) return status(first, list[0]!.getMessage());
  return status(Code.MULTIPLE_RESULTS, 'entries have different results');
}

function header(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}

/** `ipv4:1.2.3.4:5`, `ipv6:[::1]:5` or `1.2.3.4:5` → `1.2.3.4:5`. */
function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(p);
  if (m) return `${m[1]}:${m[2]}`;
  return p.includes(':') ? p : `${p}:0`;
}

function deadlineOf(d: Date | number): number {
  const t = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(t) ? t : Date.now() + 60_000;
}
