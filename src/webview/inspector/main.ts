/** The inspector UI's entry: reads the host page's config, picks the host, starts the app. */
import { InspectorApp } from './app';
import { readConfig } from './host';
import { cliHost } from './cliHost';
import { vscodeHost } from './vscodeHost';

const config = readConfig(document);
new InspectorApp(config, config.host === 'vscode' ? vscodeHost() : cliHost(config));
