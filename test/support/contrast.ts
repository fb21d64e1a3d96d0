/**
 * A WCAG contrast audit run inside a page: every visible element with text of its own, its
 * computed colour against the background it is drawn on (alpha composited up the tree).
 * Self-contained, so it can be handed to page.evaluate().
 */

export interface ContrastFailure {
  element: string;
  text: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/** Runs in the page; returns the text/background pairs below AA (4.5:1, or 3:1 for large text). */
export function contrastFailures(): ContrastFailure[] {
  type Rgba = [number, number, number, number];
  const parse = (css: string): Rgba => {
    const m = /rgba?\(([^)]+)\)/.exec(css);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top: Rgba, bottom: Rgba): Rgba => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i: number): number => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const backgroundOf = (element: Element | null): Rgba => {
    const layers: Rgba[] = [];
    for (let node = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      const bg = parse(style.backgroundColor);
      const opacity = Number(style.opacity);
      if (bg[3] > 0) layers.push([bg[0], bg[1], bg[2], bg[3] * opacity]);
      if (bg[3] >= 1 && opacity >= 1) break;
    }
    let result: Rgba = [255, 255, 255, 1]; // the canvas below everything
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const luminance = ([r, g, b]: Rgba): number => {
    const channel = (v: number): number => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const failures: ContrastFailure[] = [];
  for (const element of Array.from(document.body.querySelectorAll("*"))) {
    if (element.closest('option, script, style, [hidden], [aria-hidden="true"]')) continue;
    if ((element as HTMLButtonElement).disabled || element.closest(':disabled')) continue; // WCAG 1.4.3 exempts inactive controls
    const ownText = Array.from(element.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim());
    const isField = element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement;
    if (!ownText && !(isField && (element as HTMLInputElement).value)) continue;
    if (element.getClientRects().length === 0) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== 'visible') continue;
    const background = backgroundOf(element);
    const color = over(parse(style.color), background);
    const [l1, l2] = [luminance(color), luminance(background)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      failures.push({
        element: `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.className ? `.${String(element.className).split(' ').join('.')}` : ''}`,
        text: (element.textContent ?? (element as HTMLInputElement).value ?? '').trim().slice(0, 40),
        ratio: Math.round(ratio * 100) / 100,
        needed,
        color: style.color,
        background: `rgba(${background.map((v) => Math.round(v * 100) / 100).join(', ')})`,
      });
    }
  }
  return failures;
}
