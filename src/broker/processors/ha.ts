import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * The admin requests of replication (upstream `AdminBrokerProcessor`): GET_BROKER_HA_STATUS
 * (`getBrokerHaStatus`, body `HARuntimeInfo`), and what a slave's SlaveSynchronize reads of its
 * master, GET_ALL_CONSUMER_OFFSET and GET_ALL_DELAY_OFFSET.
 */
export class HAAdminProcessor {
  constructor(private readonly broker: BrokerController) {}

  getBrokerHaStatus(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(JSON.stringify(this.broker.haRuntimeInfo())) });
  }

  getAllConsumerOffset(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(this.broker.consumerOffsetManager.encode()) });
  }

  getAllDelayOffset(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(JSON.stringify({ offsetTable: this.broker.scheduleMessageService.offsetTable() })) });
  }
}
