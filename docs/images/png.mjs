// Makes a screenshot PNG small: Chromium writes RGBA; this writes it as a palette of at most 256
// colours (a screenshot of a UI has few: the most frequent 256 are kept and every other pixel
// takes the nearest of them, which only touches the rarest edge shades of anti-aliased text),
// compressed at zlib's best level. Images with transparency are written losslessly.
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const paeth = (a, b, c) => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** The pixels of an 8-bit, non-interlaced RGB or RGBA PNG, as RGBA rows. */
function decode(png) {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let at = 8;
  let header;
  const idat = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], color: data[9], interlace: data[12] };
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const { width, height, depth, color, interlace } = header;
  if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${color}, interlace ${interlace}`);
  const channels = color === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rgba = Buffer.alloc(width * height * 4);
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = previous[i];
      const c = i >= channels ? previous[i - channels] : 0;
      const add = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      line[i] = (line[i] + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      line.copy(rgba, (y * width + x) * 4, x * channels, x * channels + 3);
      rgba[(y * width + x) * 4 + 3] = channels === 4 ? line[x * channels + 3] : 255;
    }
    previous = line;
  }
  return { width, height, rgba };
}

/** Rows of `bpp`-byte pixels, each with the filter whose output has the smallest sum (the usual heuristic). */
function filterRows(rows, bpp) {
  const out = [];
  let previous = Buffer.alloc(rows[0].length);
  for (const line of rows) {
    let best;
    let bestScore = Infinity;
    for (let filter = 0; filter < 5; filter++) {
      const row = Buffer.alloc(line.length + 1);
      row[0] = filter;
      let score = 0;
      for (let i = 0; i < line.length; i++) {
        const a = i >= bpp ? line[i - bpp] : 0;
        const b = previous[i];
        const c = i >= bpp ? previous[i - bpp] : 0;
        const predicted = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const value = (line[i] - predicted) & 0xff;
        row[i + 1] = value;
        score += value < 128 ? value : 256 - value;
      }
      if (score < bestScore) [best, bestScore] = [row, score];
    }
    out.push(best);
    previous = line;
  }
  return Buffer.concat(out);
}

/** An opaque image's colours reduced to its 256 most frequent, each other pixel set to the nearest of them. */
function reduceColours(rgba) {
  const counts = new Map();
  for (let i = 0; i < rgba.length; i += 4) {
    const key = rgba.readUInt32BE(i);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size <= 256) return;
  const kept = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 256).map(([key]) => key);
  const nearest = new Map(kept.map((key) => [key, key]));
  for (let i = 0; i < rgba.length; i += 4) {
    const key = rgba.readUInt32BE(i);
    let to = nearest.get(key);
    if (to === undefined) {
      let best = Infinity;
      for (const candidate of kept) {
        const dr = (candidate >>> 24) - rgba[i];
        const dg = ((candidate >>> 16) & 0xff) - rgba[i + 1];
        const db = ((candidate >>> 8) & 0xff) - rgba[i + 2];
        const distance = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
        if (distance < best) [best, to] = [distance, candidate];
      }
      nearest.set(key, to);
    }
    rgba.writeUInt32BE(to, i);
  }
}

/** Rewrites `file` smaller (see the top of this file). */
export function optimisePng(file) {
  const { width, height, rgba } = decode(readFileSync(file));
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) opaque = false;
  if (opaque) reduceColours(rgba);
  const colours = new Map();
  for (let i = 0; i < rgba.length; i += 4) {
    const key = rgba.readUInt32BE(i);
    if (!colours.has(key) && colours.size <= 256) colours.set(key, colours.size);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  const chunks = [];
  const rows = [];
  if (colours.size <= 256) {
    header[9] = 3;
    const palette = Buffer.alloc(colours.size * 3);
    const alpha = Buffer.alloc(colours.size);
    for (const [key, index] of colours) {
      palette.writeUIntBE(key >>> 8, index * 3, 3);
      alpha[index] = key & 0xff;
    }
    chunks.push(chunk('PLTE', palette));
    if (!opaque) chunks.push(chunk('tRNS', alpha));
    for (let y = 0; y < height; y++) {
      const line = Buffer.alloc(width);
      for (let x = 0; x < width; x++) line[x] = colours.get(rgba.readUInt32BE((y * width + x) * 4));
      rows.push(line);
    }
  } else {
    header[9] = opaque ? 2 : 6;
    const bpp = opaque ? 3 : 4;
    for (let y = 0; y < height; y++) {
      const line = Buffer.alloc(width * bpp);
      for (let x = 0; x < width; x++) rgba.copy(line, x * bpp, (y * width + x) * 4, (y * width + x) * 4 + bpp);
      rows.push(line);
    }
  }
  // A palette's indices are not magnitudes: filtering them rarely helps.
  const data = header[9] === 3 ? Buffer.concat(rows.map((line) => Buffer.concat([Buffer.from([0]), line]))) : filterRows(rows, header[9] === 6 ? 4 : 3);
  const png = Buffer.concat([SIGNATURE, chunk('IHDR', header), ...chunks, chunk('IDAT', deflateSync(data, { level: 9, memLevel: 9 })), chunk('IEND', Buffer.alloc(0))]);
  const before = readFileSync(file).length;
  if (png.length < before) writeFileSync(file, png);
  return { before, after: Math.min(before, png.length), colours: colours.size > 256 ? 'over 256' : colours.size };
}
