/** The echo mode: every message goes back to its sender as it came, text as text, binary as binary. */
import { onlyKeys } from './check';
import type { Endpoint, EndpointClient, EndpointConfig, ModeDefinition } from './types';

export interface EchoConfig extends EndpointConfig {
  readonly mode: 'echo';
}

class EchoEndpoint implements Endpoint<EchoConfig> {
  opened(): void {}

  message(client: EndpointClient, data: Buffer, isBinary: boolean): void {
    client.send(data, isBinary);
  }

  closed(): void {}

  reconfigure(): void {} // nothing to configure

  dispose(): void {}
}

export const echoMode: ModeDefinition<EchoConfig> = {
  mode: 'echo',
  check: (section, check) => (onlyKeys(section, ['mode'], check, 'for mode "echo"') ? { mode: 'echo' } : undefined),
  create: () => new EchoEndpoint(),
};
