/** The broadcast mode: each message goes to every client of the endpoint, the sender too unless `includeSender` is false. */
import { onlyKeys, optionalBoolean } from './check';
import type { Endpoint, EndpointClient, EndpointConfig, EndpointContext, ModeDefinition } from './types';

export interface BroadcastConfig extends EndpointConfig {
  readonly mode: 'broadcast';
  /** Whether the sender gets its own message back. Default true. */
  readonly includeSender: boolean;
}

class BroadcastEndpoint implements Endpoint<BroadcastConfig> {
  constructor(
    private config: BroadcastConfig,
    private readonly context: EndpointContext,
  ) {}

  opened(): void {}

  message(client: EndpointClient, data: Buffer, isBinary: boolean): void {
    this.context.sendAll(data, isBinary, this.config.includeSender ? undefined : client);
  }

  closed(): void {}

  reconfigure(config: BroadcastConfig): void {
    this.config = config;
  }

  dispose(): void {}
}

export const broadcastMode: ModeDefinition<BroadcastConfig> = {
  mode: 'broadcast',
  check(section, check) {
    if (!onlyKeys(section, ['mode', 'includeSender'], check, 'for mode "broadcast"')) return undefined;
    const includeSender = optionalBoolean(section, 'includeSender', true, check);
    return includeSender === undefined ? undefined : { mode: 'broadcast', includeSender };
  },
  create: (config, context) => new BroadcastEndpoint(config, context),
};
