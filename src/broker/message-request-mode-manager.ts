import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import type { Logger } from '../common/logger.js';
import { writeFileAtomic } from '../common/config-file.js';
import {
  decodeMessageRequestModeTable, encodeMessageRequestModeTable,
  type MessageRequestModeTable, type SetMessageRequestModeRequestBody,
} from '../common/message-request-mode.js';

/**
 * The consume mode (PULL or POP) set per topic and consumer group with SET_MESSAGE_REQUEST_MODE
 * (upstream `MessageRequestModeManager`), persisted as `config/messageRequestMode.json` in
 * upstream's layout (`{"messageRequestModeMap":{topic:{group:{…}}}}`) so a switch to POP
 * survives a restart.
 */
export class MessageRequestModeManager {
  private table: MessageRequestModeTable = new Map();
  private readonly path: string;

  constructor(storeRoot: string, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'messageRequestMode.json');
  }

  load(): void {
    // As upstream ConfigManager: the file, else its backup; a corrupt file is logged and skipped.
    for (const p of [this.path, `${this.path}.bak`]) {
      if (!existsSync(p)) continue;
      const text = readFileSync(p, 'utf8');
      if (text.trim() === '') continue;
      try {
        this.table = decodeMessageRequestModeTable(text);
        return;
      } catch (err) {
        this.logger.warn(`${p} is not a message request mode table (${(err as Error).message}); trying its backup`);
      }
    }
  }

  /** A slave takes the master's table (upstream 5.x SlaveSynchronize.syncMessageRequestMode). */
  replaceFromMaster(text: string): void {
    this.table = decodeMessageRequestModeTable(text);
    this.persist();
  }

  set(body: SetMessageRequestModeRequestBody): void {
    let groups = this.table.get(body.topic);
    if (!groups) this.table.set(body.topic, (groups = new Map()));
    groups.set(body.consumerGroup, { ...body });
  }

  get(topic: string, group: string): SetMessageRequestModeRequestBody | undefined {
    return this.table.get(topic)?.get(group);
  }

  /** The whole table as GET_ALL_MESSAGE_REQUEST_MODE returns it (upstream `encode()`). */
  encode(): string {
    return encodeMessageRequestModeTable(this.table);
  }

  persist(): void {
    writeFileAtomic(this.path, this.encode());
  }
}
