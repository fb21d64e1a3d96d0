/** The one HTML skeleton of the extension's webviews: policy, stylesheet, config as data, one script. */

export interface WebviewPage {
  title: string;
  /** The page's Content-Security-Policy, already built and checked. */
  csp: string;
  styleUrl: string;
  scriptUrl: string;
  /** A fresh base64 nonce for the one script tag. */
  nonce: string;
  /** The id of the `<script type="application/json">` the UI reads its config from. */
  configId: string;
  config: unknown;
}

const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function webviewPage({ title, csp, styleUrl, scriptUrl, nonce, configId, config }: WebviewPage): string {
  // JSON inside <script>: `<` escaped so no value can end the element. Data, never run.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(styleUrl)}">
<title>${attr(title)}</title>
</head>
<body>
<script type="application/json" id="${attr(configId)}">${json}</script>
<script nonce="${attr(nonce)}" src="${attr(scriptUrl)}"></script>
</body>
</html>`;
}
